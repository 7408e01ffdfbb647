"""Train the scorecard from the Taiwan CSV and print hold-out AUC, KS and calibration.

    .venv/bin/python scripts/train_credit_model.py [--csv ../shared/data/credit/taiwan_...csv] [--out PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cloud.credit.model import DEFAULT_ARTIFACT, DEFAULT_CSV, train_artifact


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--out", type=Path, default=DEFAULT_ARTIFACT)
    args = parser.parse_args()
    card = train_artifact(args.csv, args.out)
    m = card.metrics
    print(f"trained on {m['train_rows']} rows, held-out {m['test_rows']} (default rate {m['test_default_rate']:.3f})")
    print(f"hold-out AUC {m['auc_test']:.4f}  KS {m['ks_test']:.4f}  Brier {m['brier_test']:.4f}  (train AUC {m['auc_train']:.4f})")
    print("calibration on the hold-out (deciles of predicted PD):")
    for row in m["calibration_test"]:
        print(f"  predicted {row['mean_pd']:.3f}  observed {row['observed']:.3f}  n={row['n']}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
