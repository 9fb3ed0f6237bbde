"""People-facing tools: the ``oms`` command line, order submission, the demo."""
