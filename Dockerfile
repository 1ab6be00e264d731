# rbt in a container: Go, Jupyter and the GoNB kernel, installed by the same
# script as CI (.ci/setup.sh). The default command serves the notebooks with
# `rbt notebook` (the same command as the README's and the server test's):
# always behind a token, printed with the URL (or set -e JUPYTER_TOKEN=...).
#   docker build -t rbt .
#   docker run --rm -p 8888:8888 -v /path/to/shared/data:/data -e RBT_DATA=/data rbt
FROM golang:1.24-bookworm
ENV GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd RBT_BUDGET=quick
RUN useradd --create-home --shell /bin/bash rbt
COPY --chown=rbt:rbt . /rbt
WORKDIR /rbt
# As root only the Debian packages are needed (setup.sh installs what is
# missing); the Go tools (in the world-writable $GOPATH of the image), the
# kernel and the rbt binary are the unprivileged user's.
RUN bash .ci/setup.sh
USER rbt
RUN bash .ci/setup.sh && make vet && go build -o /home/rbt/bin/rbt ./rbt/cmd/rbt
EXPOSE 8888
# Token-protected on every interface of the container; never an open server.
CMD ["/home/rbt/bin/rbt", "notebook", "-ip", "0.0.0.0", "-port", "8888", "-dir", "/rbt/notebooks"]
