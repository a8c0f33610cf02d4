# Builds the single webhookd binary; the runtime image holds nothing else.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/webhookd ./cmd/webhookd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/webhookd /webhookd
EXPOSE 8080
ENTRYPOINT ["/webhookd", "serve"]
