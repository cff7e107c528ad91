# The README's commands; the work is in scripts/.
.PHONY: demo test build deps services-start services-stop clean

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

build:
	bash scripts/build.sh

deps:
	bash scripts/deps.sh

services-start:
	bash scripts/services.sh start

services-stop:
	bash scripts/services.sh stop

clean:
	rm -rf build
