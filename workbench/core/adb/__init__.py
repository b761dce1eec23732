"""ADB devices: transports, on-device sampling and Android text parsers."""
