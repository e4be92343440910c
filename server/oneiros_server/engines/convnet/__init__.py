"""CONVNET: DeepDream and Gatys style transfer by gradient ascent on the image, in torch."""
