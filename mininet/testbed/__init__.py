"""The PayFlow Mininet testbed: infrastructure (infra), traffic and purchases
(traffic), results and plots (report), and one module per scenario (scenarios/).
mininet/run.py is its command line."""
