"""The signing bridge: XBM's signing-agent protocol in front of the e-port card's local signing service.

Run it on the operator's machine, next to the e-port client and its card (docs/signing.md)::

    XBM_SIGNER_CARD_PASSWORD=… python -m services.compliance.signer --listen 127.0.0.1:8441

and point compliance at it: ``XBM_COMPLIANCE_SIGNER_URL=http://<that machine>:8441/sign``."""
