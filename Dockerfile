# syntax=docker/dockerfile:1

# Build stage: a static binary (CGO_ENABLED=0), with paths of the build
# machine stripped (-trimpath).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/idverify ./cmd/idverify

# Runtime stage: distroless static (CA certificates, /etc/passwd, no shell)
# running as the unprivileged user nonroot (uid 65532). Time zone data is
# compiled into the binary (time/tzdata), so the image needs none.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/idverify /usr/local/bin/idverify
USER nonroot:nonroot
# The embedded default listens on 127.0.0.1, which a published port cannot
# reach inside a container.
ENV IDVERIFY_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/idverify"]
# With no IDVERIFY_REDIS_URL and IDVERIFY_MYSQL_DSN, serve runs everything
# in one process on in-memory stores: docker run -p 8080:8080 IMAGE
CMD ["serve"]
