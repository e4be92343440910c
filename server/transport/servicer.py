"""The Oneiros service: each RPC delegates to its family's handler module."""

from __future__ import annotations

from oneiros.v1 import oneiros_pb2_grpc
from oneiros_server.transport import dream, latent, models, sample, stylize
from oneiros_server.transport.calls import CallRunner, ServerState


class OneirosServicer(oneiros_pb2_grpc.OneirosServicer):
    def __init__(self, state: ServerState):
        self.calls = CallRunner(state)

    def ListModels(self, request, context):
        return self.calls.unary("ListModels", models.list_models, request, context)

    def GetModel(self, request, context):
        return self.calls.unary("GetModel", models.get_model, request, context)

    def Sample(self, request, context):
        return self.calls.unary("Sample", sample.sample, request, context)

    def SampleStream(self, request, context):
        return self.calls.stream("SampleStream", sample.sample_stream, request, context)

    def Dream(self, request, context):
        return self.calls.unary("Dream", dream.dream, request, context)

    def DreamStream(self, request, context):
        return self.calls.stream("DreamStream", dream.dream_stream, request, context)

    def Stylize(self, request, context):
        return self.calls.unary("Stylize", stylize.stylize, request, context)

    def StylizeStream(self, request, context):
        return self.calls.stream("StylizeStream", stylize.stylize_stream, request, context)

    def Decode(self, request, context):
        return self.calls.unary("Decode", latent.decode, request, context)

    def EditLatent(self, request, context):
        return self.calls.unary("EditLatent", latent.edit_latent, request, context)
