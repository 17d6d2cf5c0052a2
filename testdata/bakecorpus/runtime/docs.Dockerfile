FROM scratch
COPY runtime.txt /docs.txt
