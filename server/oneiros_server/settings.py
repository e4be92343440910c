"""One settings object: command-line flags > environment (ONEIROS_*) > oneiros.toml > defaults.

Validated at start; nothing here runs at import time.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def default_model_repository() -> Path:
    """The repository shipped in the wheel (package data); in a source checkout, its models/ folder."""
    packaged = Path(str(resources.files("oneiros_server") / "models"))
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "models"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ONEIROS_",
        toml_file="oneiros.toml",
        cli_kebab_case=True,
        cli_prog_name="oneiros-server",
        cli_implicit_flags=True,
        extra="forbid",
    )

    # Transport
    host: str = Field("localhost", description="address to listen on (0.0.0.0 in a container)")
    port: int = Field(50051, ge=0, le=65535, description="gRPC port (0 = any free port)")
    http_port: int = Field(
        8080, ge=-1, le=65535, description="HTTP/JSON and OpenAI-compatible port (0 = any free port, -1 = off)"
    )
    http_cors_origins: str = Field(
        "", description="browser origins allowed to call the HTTP port, comma-separated ('*' = any; '' = none)"
    )
    http_read_timeout_s: float = Field(
        15.0, gt=0, le=3600, description="HTTP: longest wait for a request's headers, and again for its body"
    )
    http_max_header_bytes: int = Field(
        64 << 10, ge=1024, description="HTTP: largest request line and headers (431 above it)"
    )
    http_max_headers: int = Field(100, ge=8, description="HTTP: most header lines in a request (431 above it)")
    workers: int = Field(
        1,
        ge=0,
        le=256,
        description="server processes sharing the ports (SO_REUSEPORT), each with its own event loop, engines"
        " and admission; torch/ORT threads are divided among them (0 = one per core)",
    )
    max_concurrent_rpcs: int = Field(4096, ge=1, description="calls in flight before RESOURCE_EXHAUSTED")
    grpc_pending_call_timeout_s: int = Field(
        3600, ge=1, description="longest a call may wait in grpc before a handler takes it (grpc's default: 30)"
    )
    max_message_bytes: int = Field(32 << 20, ge=1 << 16, description="largest request/response message")
    keepalive_min_ping_s: float = Field(10.0, ge=1, description="shortest client keepalive ping interval allowed")
    grace_period_s: float = Field(10.0, ge=0, description="time in-flight calls get on SIGTERM")

    # Model repository and runtimes
    model_repository: Path = Field(
        default_factory=default_model_repository,
        description="folder of <name>/<version>/model.json (default: the bundled one)",
    )
    model_control_mode: Literal["none", "poll", "explicit"] = Field(
        "none",
        description="none = load the repository once at start; poll = follow its folder (new, changed and removed"
        " models); explicit = load only --load-model and what the ModelRepository API asks for",
    )
    repository_poll_s: float = Field(5.0, gt=0, le=3600, description="poll mode: seconds between looks at the folder")
    load_model: list[str] = Field([], description="explicit mode: models to load at start (repeatable)")
    admin_tokens: SecretStr = Field(
        SecretStr(""),
        description="bearer tokens of operators allowed to use the ModelRepository API, comma-separated"
        " ('' = the API is not served)",
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto = CUDA when present")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="Dream/Stylize backbone: auto = bfloat16 autocast where the device is fast at it"
        " (CUDA with bf16; a CPU with AMX or AVX512-BF16), else float32",
    )
    torch_threads: int = Field(0, ge=0, description="torch intra-op threads (0 = torch's default)")
    ort_threads: int = Field(1, ge=0, description="ONNX Runtime intra-op threads, never spinning (0 = its default)")

    # Dynamic batching (Decode, EditLatent, Sample)
    batching: bool = Field(True, description="coalesce concurrent requests into one runtime call")
    batch_max_size: int = Field(
        256, ge=1, le=4096, description="largest batch one runtime call takes (Sample: sequences per step)"
    )
    batch_max_delay_ms: float = Field(
        0.0, ge=0, le=1000, description="no effect: batches never wait to fill (kept so that old configurations start)"
    )
    batch_queue_size: int = Field(1024, ge=1, description="queued items per model before RESOURCE_EXHAUSTED")
    batch_max_queue_wait_s: float = Field(
        10.0,
        ge=0,
        description="Sample: longest wait for a slot in the batch before RESOURCE_EXHAUSTED (0 = no limit)",
    )
    batch_on_loop: bool = Field(
        False,
        description="Decode/EditLatent batches run on the event loop, not on the model's thread",
    )

    # Sample / SampleStream
    sample_max_tokens: int = Field(2048, ge=1, le=1 << 20, description="server cap on max_tokens per completion")
    sample_max_n: int = Field(16, ge=1, le=1024, description="most completions (n) per Sample request")
    sample_max_prompt_chars: int = Field(8192, ge=1, description="longest prompt accepted")
    sample_max_stop: int = Field(8, ge=0, le=64, description="most stop sequences per request")
    sample_prefill_chunk: int = Field(
        256, ge=1, le=1 << 16, description="prompt characters prefilled per sequence between decode steps"
    )
    sample_stream_flush_ms: float = Field(
        0.0,
        ge=0,
        le=1000,
        description="SampleStream: at most one chunk per completion per window (0 = each piece at once)",
    )

    # Long torch jobs (Dream, Stylize): one bounded pool per backbone model
    job_workers: int = Field(1, ge=1, le=64, description="Dream/Stylize jobs that run at once")
    job_queue_size: int = Field(8, ge=0, le=10_000, description="jobs waiting before RESOURCE_EXHAUSTED")
    job_max_side: int = Field(1024, ge=32, le=8192, description="largest side (px) Dream/Stylize work at")
    job_max_steps: int = Field(2000, ge=1, le=100_000, description="most optimisation steps in one job")
    style_cache_entries: int = Field(
        32, ge=0, le=10_000, description="Stylize: style targets (Gram matrices) kept for reuse (0 = off)"
    )

    # Request limits, enforced before the expensive work starts
    max_image_bytes: int = Field(16 << 20, ge=1024, description="largest encoded input image")
    max_image_pixels: int = Field(4096 * 4096, ge=64, description="largest decoded input image (w*h)")
    max_images_per_request: int = Field(256, ge=1, description="Decode/EditLatent outputs per call")

    # Security
    tls_cert: Path | None = Field(None, description="server certificate chain (PEM); enables TLS")
    tls_key: Path | None = Field(None, description="server private key (PEM)")
    tls_client_ca: Path | None = Field(None, description="CA bundle (PEM) for client certificates; enables mTLS")
    auth_tokens: SecretStr = Field(SecretStr(""), description="accepted bearer tokens, comma-separated")
    auth_tokens_file: Path | None = Field(None, description="file of accepted bearer tokens, one per line")

    # Observability
    metrics_port: int = Field(
        9464, ge=-1, le=65535, description="Prometheus /metrics HTTP port (0 = any free port, -1 = off)"
    )

    # Logging
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="least severe level logged")
    log_json: bool = Field(True, description="one JSON object per log line")

    @model_validator(mode="after")
    def _check_tls(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key must be given together")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError("tls_client_ca (mTLS) needs tls_cert and tls_key")
        if not Path(self.model_repository).is_dir():
            raise ValueError(f"model_repository: {self.model_repository} is not a folder")
        for name in ("tls_cert", "tls_key", "tls_client_ca", "auth_tokens_file"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"{name}: {path} is not a readable file")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))
