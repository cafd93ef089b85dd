"""XBM's tools beside the services: the command line (``xbm.cli``) and the process runner (``xbm.run``)."""
