ARG GO_VERSION=1.26
FROM golang:${GO_VERSION}-alpine AS base
WORKDIR /src

FROM base AS vendored
RUN --mount=target=.,rw go mod tidy && mkdir /out && cp go.mod go.sum /out

FROM scratch AS update
COPY --from=vendored /out /

FROM vendored AS validate
RUN --mount=target=.,rw diff -u go.mod /out/go.mod
