# The application image: the worker, the starter, the `oms` tool, the staff console and API
# (`oms serve`) and the codec server.
# Dependencies come from requirements.lock (pinned, with hashes); the app runs as a
# non-root user. Entry points as in the README: `python worker.py`, `oms ...`.
FROM python:3.11.11-slim-bookworm AS build
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock
WORKDIR /src
COPY pyproject.toml README.md worker.py starter.py ./
COPY domain domain
COPY persistence persistence
COPY integrations integrations
COPY activities activities
COPY workflows workflows
COPY runtime runtime
COPY ops ops
COPY web web
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11.11-slim-bookworm
# The console's charts lay Chinese labels out with a CJK font (web/charts.py).
RUN apt-get update && apt-get install -y -q --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
# The simulated partners' books live on a volume shared by the workers (docker-compose.yml);
# the folder exists in the image so a new volume takes its owner.
RUN useradd --create-home --uid 10001 oms && install -d -o oms -g oms /home/oms/partners
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY worker.py starter.py ./
COPY examples examples
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    OMS_DATA_DIR=/home/oms/.oms
USER oms
CMD ["python", "worker.py"]
