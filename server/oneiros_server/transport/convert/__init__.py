"""Converters: the only code that knows both protobuf and engine types, shared by the gRPC and HTTP transports.

One module per RPC family: ``<family>_request(message, settings)`` (and ``stream_request`` for
its streaming twin) turns the wire message into the engine's request (once);
``<family>_response(result, message)`` and, per streamed event, ``stream_message`` (Sample's
``chunk_message``) turn the engine's result and events into wire messages (once). ``models``
answers ListModels and GetModel from the dataplane's view of the repository. ``images`` and
``png`` decode and encode image files; ``enums`` checks every enum field of a request.
"""
