# qdrant-otel-agent — common tasks. `make help` lists them.
QDRANT_URL ?= http://localhost:6333
OTLP_ENDPOINT ?= http://localhost:4318

.PHONY: help run cloud once up down test e2e demo docs lint bench fuzz

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

run: ## Run the agent against a local Qdrant (QDRANT_URL) and Collector (OTLP_ENDPOINT)
	cargo run --release -- --qdrant-url $(QDRANT_URL) --otlp-endpoint $(OTLP_ENDPOINT)

once: ## Poll the local Qdrant once and print the points (no backend needed)
	cargo run --release -- once --qdrant-url $(QDRANT_URL)

cloud: ## Run against QDRANT_URL/QDRANT_API_KEY, exporting to OTEL_EXPORTER_OTLP_ENDPOINT (+ _HEADERS)
	@test -n "$$QDRANT_URL" || { echo "cloud: set QDRANT_URL (and QDRANT_API_KEY) first" >&2; exit 2; }
	@test -n "$$OTEL_EXPORTER_OTLP_ENDPOINT" || { echo "cloud: set OTEL_EXPORTER_OTLP_ENDPOINT (and OTEL_EXPORTER_OTLP_HEADERS) first" >&2; exit 2; }
	cargo run --release

up: ## Start the local stack (Qdrant, agent, Collector, Prometheus :9091, Grafana :3000)
	docker compose up -d --build

down: ## Stop the local stack
	docker compose down

test: ## Run every test (builds the Collector and Prometheus 3 for the e2e tests, fetches kubernetes-validate, first)
	./scripts/fetch-e2e-servers.sh
	./scripts/fetch-test-tools.sh
	cargo test --all-targets

e2e: ## Run only the end-to-end tests (agent → Collector → Prometheus 3 → dashboards and rules; agent → Prometheus OTLP)
	./scripts/fetch-e2e-servers.sh
	cargo test --test e2e_prometheus --test e2e_otlp_direct --test collector_configs

demo: ## See it work without Docker: a RECORDED Qdrant → agent → Collector → Prometheus 3 (:9091)
	./scripts/demo.sh

docs: ## Regenerate docs/metrics.md from the metric registry
	cargo run -- docs

lint: ## Formatting and lints, as CI runs them
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

bench: ## Scale benchmark at 10/100/1,000/10,000 collections (results: docs/performance.md)
	cargo bench --bench scale

FUZZ_SECONDS ?= 30
fuzz: ## Fuzz the Qdrant response models and the config loader (FUZZ_SECONDS per target)
	./scripts/fuzz.sh $(FUZZ_SECONDS)
