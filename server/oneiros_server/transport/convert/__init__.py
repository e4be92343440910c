"""Converters: the only code that knows both protobuf and engine types, shared by the gRPC and HTTP transports."""
