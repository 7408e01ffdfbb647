"""Credit risk: bureau table, scorecard model (WOE + logistic regression) and the limit policy."""
