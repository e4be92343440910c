"""The MLServer peer: a custom MLModel around an ONNX Runtime session (MLServer ships no ONNX runtime).

Same session settings as Oneiros (one intra-op thread, no spinning); MLServer's adaptive
batching (``max_batch_size``, ``max_batch_time`` in model-settings.json) batches requests.
"""

import numpy as np
import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class OnnxDecoder(MLModel):
    async def load(self) -> bool:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(self.settings.parameters.uri, options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        x = NumpyCodec.decode_input(payload.inputs[0]).astype(np.float32)
        y = self.session.run(None, {self.input_name: x})[0]
        return InferenceResponse(model_name=self.name, outputs=[NumpyCodec.encode_output("image", y)])
