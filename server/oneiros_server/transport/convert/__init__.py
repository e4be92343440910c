"""Converters: the only code that knows both protobuf and engine types, shared by the gRPC and HTTP transports.

One module per RPC family: ``<family>_request(message, settings)`` turns the wire message into
the engine's request (once), ``..._response(result, message)`` / ``stream_message(event, message)``
turn the engine's result and events into wire messages (once). ``images`` and ``png`` decode
and encode image files; ``enums`` checks every enum field of a request.
"""
