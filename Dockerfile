# The Club Justice API: slim, non-root, no build tools in the final image.
# docker build -t clubjustice . && docker run -e CLUBJUSTICE_DATABASE_URL=postgresql://… clubjustice

FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml constraints.txt README.md ./
COPY club club
COPY schema schema
COPY resolvers resolvers
COPY db db
COPY server server
# Every pinned dependency has a binary wheel for Linux x86_64 and CPython 3.11 (checked
# with `pip download --only-binary=:all:`): nothing is compiled, no compiler is needed.
RUN /opt/venv/bin/pip install --no-cache-dir --prefer-binary -c constraints.txt . \
    && /opt/venv/bin/pip uninstall --yes pip

FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin clubjustice
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CLUBJUSTICE_HOST=0.0.0.0 \
    CLUBJUSTICE_PORT=8000
WORKDIR /tmp
USER clubjustice
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --retries=10 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['CLUBJUSTICE_PORT']}/readyz\", timeout=2)"]
CMD ["clubjustice", "serve"]
