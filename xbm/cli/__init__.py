"""``xbm``: the command line for automation scripts. It talks to the services over HTTP only."""
