FROM scratch
COPY helper.sh /helper
