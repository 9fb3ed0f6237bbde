"""Durable orchestration: the order workflow and its children (no I/O: activities, timers).

This package imports nothing itself. The workflow sandbox imports a workflow's
module afresh for every workflow it starts, and the package along with it: a
package that imported every workflow would make each new order re-execute the
supply and parcel workflows' modules too. The worker's list is in
:mod:`workflows.registry`.
"""
