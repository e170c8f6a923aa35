# peacebot: the Discord study bot, with its content baked in.
#   docker build -t peacebot .
#   docker run -d --name peacebot -e DISCORD_TOKEN=... -v peacebot-data:/data peacebot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user that owns only the data volume.
RUN useradd --create-home --uid 10001 peacebot \
    && mkdir /data \
    && chown peacebot:peacebot /data

# Install the package (bot/ and cogs/) with its dependencies, then drop the sources.
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip install . && rm -rf /src

# The content ships in the image; the installed package cannot see the source tree, so say where.
COPY content /app/content
WORKDIR /app

# The token comes only from the environment at run time (`-e DISCORD_TOKEN=...`), never from
# the image: .dockerignore keeps .env out of the build context.
ENV PEACEBOT_CONTENT=/app/content \
    PEACEBOT_DB=/data/peacebot.sqlite3 \
    PEACEBOT_LOG_LEVEL=INFO

USER peacebot
VOLUME ["/data"]

# The bot touches the heartbeat file every minute while it is connected to Discord.
HEALTHCHECK --interval=60s --timeout=10s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, sys, time; sys.exit(time.time() - os.path.getmtime('/tmp/peacebot.heartbeat') > 180)"]

# Exec form: the bot is PID 1 and gets SIGTERM from `docker stop`, flushes its log and exits.
CMD ["peacebot", "run", "--heartbeat", "/tmp/peacebot.heartbeat"]
