# rbt in a container: Go, Jupyter and the GoNB kernel, installed by the same
# script as CI (.ci/setup.sh). The default command serves the notebooks.
#   docker build -t rbt .
#   docker run --rm -p 8888:8888 -v /path/to/shared/data:/data -e RBT_DATA=/data rbt
# Then open the URL with the token that the server prints.
FROM golang:1.24-bookworm
WORKDIR /rbt
COPY . .
RUN bash .ci/setup.sh && make vet
ENV GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd RBT_BUDGET=quick
EXPOSE 8888
# Token-protected (Jupyter generates a token and prints it); never an open server.
CMD ["/usr/bin/jupyter", "notebook", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--allow-root", "--notebook-dir=/rbt/notebooks"]
