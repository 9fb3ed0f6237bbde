"""Ports to the outside world and the simulators that stand in for partners."""
