"""A loopback stand-in of AWS Secrets Manager (GetSecretValue) and SSM Parameter Store (GetParameter).

Every request's AWS Signature V4 is recomputed with botocore (AWS's own Python signer) from the same
credentials and compared with the one the client sent; a request that does not verify gets the answer
AWS gives (InvalidSignatureException, UnrecognizedClientException, ...). Answers are shaped as the services
shape them, including ResourceNotFoundException, ParameterNotFound and AccessDeniedException.

Usage: python aws_standin.py --data FILE --log FILE --access-key K --secret-key S [--session-token T]
                              [--region R]
Prints the port it listens on (127.0.0.1) as its first line. FILE is JSON, read again for every request
(a test rewrites it to rotate a value):
  {"secrets": {"<arn or name>": "<SecretString>"}, "parameters": {"<name>": "<value>"}, "denied": ["<id>"]}
Each request appends one JSON line to the log: target, verified, why, signedHeaders, id.
"""
import argparse
import datetime
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICES = {"secretsmanager.GetSecretValue": "secretsmanager", "AmazonSSM.GetParameter": "ssm"}
REQUIRED_SIGNED = {"host", "x-amz-date", "x-amz-target", "content-type"}
log_lock = threading.Lock()


def parse_authorization(value):
    """AWS4-HMAC-SHA256 Credential=K/date/region/service/aws4_request, SignedHeaders=a;b, Signature=hex"""
    if not value.startswith("AWS4-HMAC-SHA256 "):
        return None
    parts = {}
    for item in value[len("AWS4-HMAC-SHA256 "):].split(","):
        key, _, val = item.strip().partition("=")
        parts[key] = val
    if not {"Credential", "SignedHeaders", "Signature"} <= parts.keys():
        return None
    scope = parts["Credential"].split("/")
    if len(scope) != 5:
        return None
    return {"key": scope[0], "date": scope[1], "region": scope[2], "service": scope[3],
            "terminal": scope[4], "signed": parts["SignedHeaders"].split(";"), "signature": parts["Signature"]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    config = None

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "00000000-0000-4000-8000-000000000000")
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, kind, message):
        self.answer(status, {"__type": kind, "Message": message})

    def record(self, entry):
        with log_lock, open(self.config.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def verify(self, body, service):
        """None when the signature is AWS's own for these credentials, else (status, type, message)."""
        auth = parse_authorization(self.headers.get("Authorization", ""))
        if auth is None:
            return 400, "IncompleteSignatureException", "Authorization header is missing or malformed"
        c = self.config
        if auth["key"] != c.access_key:
            return 400, "UnrecognizedClientException", "The security token included in the request is invalid."
        if auth["region"] != c.region or auth["service"] != service or auth["terminal"] != "aws4_request":
            return 400, "InvalidSignatureException", "Credential should be scoped to a valid region and service"
        if c.session_token and self.headers.get("X-Amz-Security-Token") != c.session_token:
            return 400, "UnrecognizedClientException", "The security token included in the request is invalid."
        signed = set(auth["signed"])
        needed = REQUIRED_SIGNED | ({"x-amz-security-token"} if c.session_token else set())
        if not needed <= signed:
            return 400, "InvalidSignatureException", "headers left unsigned: " + ",".join(sorted(needed - signed))
        stamp = self.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            return 400, "IncompleteSignatureException", "X-Amz-Date is missing or malformed"
        if abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) > 300 or stamp[:8] != auth["date"]:
            return 400, "InvalidSignatureException", "Signature expired"
        # Sign again, with botocore, exactly the headers the client says it signed.
        headers = {name: self.headers.get(name, "") for name in auth["signed"]}
        request = AWSRequest(method=self.command, url="http://%s%s" % (self.headers.get("Host"), self.path),
                             data=body, headers=headers)
        request.context["timestamp"] = stamp
        signer = SigV4Auth(Credentials(c.access_key, c.secret_key, c.session_token), service, c.region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if expected != auth["signature"]:
            return 400, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."
        return None

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        target = self.headers.get("X-Amz-Target", "")
        service = SERVICES.get(target)
        entry = {"target": target, "verified": False, "trace": self.headers.get("X-Amzn-Trace-Id")}
        auth = parse_authorization(self.headers.get("Authorization", ""))
        entry["signedHeaders"] = auth["signed"] if auth else []
        if service is None:
            self.record(dict(entry, why="unknown target"))
            return self.error(400, "UnknownOperationException", "")
        refused = self.verify(body, service)
        if refused:
            self.record(dict(entry, why=refused[1] + ": " + refused[2]))
            return self.error(*refused)
        entry["verified"] = True
        try:
            request = json.loads(body)
        except ValueError:
            self.record(dict(entry, why="body is not JSON"))
            return self.error(400, "SerializationException", "")
        with open(self.config.data) as f:
            data = json.load(f)
        if service == "secretsmanager":
            secret_id = request.get("SecretId", "")
            entry["id"] = secret_id
            self.record(entry)
            if secret_id in data.get("denied", []):
                return self.error(400, "AccessDeniedException", "User is not authorized to perform: secretsmanager:GetSecretValue")
            if secret_id not in data.get("secrets", {}):
                return self.error(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
            name = secret_id.split(":secret:")[-1]
            return self.answer(200, {"ARN": secret_id, "Name": name, "SecretString": data["secrets"][secret_id],
                                     "VersionId": "a1b2c3d4-0000-4000-8000-000000000001",
                                     "VersionStages": ["AWSCURRENT"], "CreatedDate": 1732280000.0})
        name = request.get("Name", "")
        entry["id"] = name
        self.record(entry)
        if name in data.get("denied", []):
            return self.error(400, "AccessDeniedException", "User is not authorized to perform: ssm:GetParameter")
        if name not in data.get("parameters", {}):
            return self.error(400, "ParameterNotFound", "")
        # Without WithDecryption a SecureString comes back encrypted, as from AWS.
        value = data["parameters"][name] if request.get("WithDecryption") is True else "AQICAHhEncryptedBlob=="
        return self.answer(200, {"Parameter": {"Name": name, "Type": "SecureString", "Value": value, "Version": 1,
                                               "ARN": "arn:aws:ssm:%s:123456789012:parameter/%s" % (self.config.region, name.lstrip("/")),
                                               "DataType": "text"}})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret-key", required=True)
    p.add_argument("--session-token", default=None)
    p.add_argument("--region", default="us-east-1")
    Handler.config = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
