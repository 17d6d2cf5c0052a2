FROM golang:1.26-alpine AS golangci-lint
ARG BUILDTAGS
RUN echo "lint with tags: $BUILDTAGS"

FROM alpine:3.20 AS yamllint
RUN echo yamllint
