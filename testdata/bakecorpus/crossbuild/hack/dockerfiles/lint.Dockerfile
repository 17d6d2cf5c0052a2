ARG GO_VERSION=1.26
FROM golang:${GO_VERSION}-alpine
WORKDIR /src
RUN --mount=target=. go vet ./...
