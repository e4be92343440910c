"""Worker processes (``--workers N``): one parent forks N full servers that share the ports.

The parent (``supervisor``) reserves the ports, forks the workers before any server exists
(grpc's pre-fork pattern), restarts a worker that dies, forwards SIGTERM, serves /metrics summed
over the workers and lets health say SERVING only while every worker is loaded. Each worker
(``worker``) is an ordinary ``OneirosServer`` with its own event loop, engines and admission.
"""
