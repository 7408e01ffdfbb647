"""The service's routes, one router per area: devices, credit, applications, support."""
