# The two commands (see README.md):
#   make run    the main job: the full model-check budget, with its table
#   make test   every test: unit, stress (plain, TSAN, ASAN+UBSAN), Relacy (CI budget)
# Both install missing Debian packages first (scripts/setup.sh).
.PHONY: run test bench setup build build-tsan build-asan test-default test-tsan test-asan clean

JOBS ?= 2

setup:
	@bash scripts/setup.sh

build: setup
	@cmake --preset default >/dev/null
	@cmake --build --preset default -j $(JOBS)

build-tsan: setup
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan -j $(JOBS)

build-asan: setup
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

run: build
	./build/default/verification/relacy/weft-verify

test-default: build
	ctest --preset default

test-tsan: build-tsan
	ctest --preset tsan

test-asan: build-asan
	ctest --preset asan

test: test-default test-tsan test-asan

bench: build
	python3 scripts/bench_report.py --build build/default --out bench/RESULTS.md

clean:
	rm -rf build
