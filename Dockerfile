# First sketch (finished with the production deployment issue): the worker image.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 oms
WORKDIR /app
COPY pyproject.toml README.md worker.py starter.py ./
COPY domain domain
COPY persistence persistence
COPY integrations integrations
COPY activities activities
COPY workflows workflows
COPY runtime runtime
COPY ops ops
COPY examples examples
RUN pip install --no-cache-dir .
USER oms
CMD ["python", "-m", "worker"]
