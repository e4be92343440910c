"""Oneiros wire contract: the generated protobuf and gRPC stubs (``oneiros.v1``)."""
