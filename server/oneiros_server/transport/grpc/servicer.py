"""The Oneiros service on grpc.aio: each RPC converts with its family's module and runs
through the dataplane."""

from __future__ import annotations

from oneiros.v1 import oneiros_pb2_grpc
from oneiros_server.dataplane import Dataplane
from oneiros_server.transport.convert import dream, latent, models, sample, stylize
from oneiros_server.transport.grpc.calls import GrpcCalls


class OneirosServicer(oneiros_pb2_grpc.OneirosServicer):
    def __init__(self, plane: Dataplane):
        self.plane = plane
        self.calls = GrpcCalls(plane)

    def _unary(self, rpc, handler, model, request, context):
        return self.calls.unary(rpc, model, context, lambda call: handler(self.plane, call, request))

    def _stream(self, rpc, handler, request, context):
        return self.calls.stream(rpc, request.model, context, lambda call: handler(self.plane, call, request))

    async def ListModels(self, request, context):
        return await self._unary("ListModels", models.list_models, "", request, context)

    async def GetModel(self, request, context):
        return await self._unary("GetModel", models.get_model, request.name, request, context)

    async def Sample(self, request, context):
        return await self._unary("Sample", sample.sample, request.model, request, context)

    async def SampleStream(self, request, context):
        async for message in self._stream("SampleStream", sample.sample_stream, request, context):
            yield message

    async def Dream(self, request, context):
        return await self._unary("Dream", dream.dream, request.model, request, context)

    async def DreamStream(self, request, context):
        async for message in self._stream("DreamStream", dream.dream_stream, request, context):
            yield message

    async def Stylize(self, request, context):
        return await self._unary("Stylize", stylize.stylize, request.model, request, context)

    async def StylizeStream(self, request, context):
        async for message in self._stream("StylizeStream", stylize.stylize_stream, request, context):
            yield message

    async def Decode(self, request, context):
        return await self._unary("Decode", latent.decode, request.model, request, context)

    async def EditLatent(self, request, context):
        return await self._unary("EditLatent", latent.edit_latent, request.model, request, context)
