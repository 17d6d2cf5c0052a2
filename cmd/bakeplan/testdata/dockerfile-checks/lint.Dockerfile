# check=skip=JSONArgsRecommended
FROM alpine as build
MAINTAINER me
CMD echo hi
