"""VAE and GAN: decoding latent points, attribute vectors and interpolation (ONNX decoders and encoders)."""
