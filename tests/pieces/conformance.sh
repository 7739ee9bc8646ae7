#!/bin/sh
# conformance.sh PYGMUC DIR: placeholder.
echo "0 passed, 0 failed"
