# newsbot: the bot, its delivery worker, the newsroom API and the feed poller in one image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NEWSBOT_DATA_DIR=/data \
    NEWSBOT_API_HOST=0.0.0.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY formatters ./formatters
COPY config ./config
COPY sandbox ./sandbox
COPY samples ./samples
RUN pip install . && useradd --create-home --uid 10001 newsbot \
    && mkdir -p /data && chown newsbot:newsbot /data

USER newsbot
VOLUME ["/data"]
EXPOSE 8080 8443
ENTRYPOINT ["newsbot"]
CMD ["run"]
