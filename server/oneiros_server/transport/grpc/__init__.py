"""The gRPC transport (grpc.aio): the servicer, each call's run, status mapping, health and auth."""
