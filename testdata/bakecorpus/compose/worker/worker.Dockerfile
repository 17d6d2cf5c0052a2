FROM web AS worker
RUN echo worker
