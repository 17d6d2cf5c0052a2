ARG BASE=Bad/Reference
FROM ${BASE}
