"""The AWS side of the stack rehearsal: `infra/template.yaml` as a CloudFormation stack in moto.

    python moto_stack.py serve --port N [--journal FILE] [--record FILE]
        A moto server whose IAM enforcement also covers DynamoDB, DynamoDB Streams and SSM by
        resource, and whose stream event source mappings honour `Enabled` (see `patch_moto`).
        With --journal, every refusal (403) and every request naming a queue, table or
        parameter that does not exist is appended to FILE as a JSON line.
        With --record, every DynamoDB and SQS request is appended to FILE as a JSON line:
        service, operation, the signing access key (`principal`), status, and the request and
        response bodies as the JSON protocols carry them (the capacity model's recording,
        tools/capacity).
    python moto_stack.py transform TEMPLATE [--param K=V]... [--edit JSON]...
        Prints the template as CloudFormation JSON: the SAM transform run offline by
        aws-sam-translator, the library `sam` itself uses.
    python moto_stack.py deploy --endpoint URL --template T --stack NAME [--param K=V]...
            [--edit JSON]... [--ssm-secret NAME=VALUE]... [--enforce-iam]
        Transforms T, creates it as stack NAME in the moto server at URL, disables the stack's
        event source mappings (the rehearsal plays them), assumes each function's role, and
        prints a JSON manifest: outputs, resources, what moto skipped, functions (environment,
        role credentials) and mappings as the stack declares them. With --enforce-iam every
        later request must be signed by a known identity and is checked against its policies.

Edits change the SAM template before the transform, for tests that break it on purpose:
`{"remove": POINTER}` or `{"set": POINTER, "value": V}`. POINTER is a JSON pointer whose
segments may also be `[Key=Value]`, selecting the list element whose Key is Value (e.g. a
policy statement by Sid).

Only moto 5.2 internals are patched; `patch_moto` fails loudly if they moved.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import threading
import zipfile
from typing import Any

REGION = "eu-west-1"
ACCOUNT = "123456789012"
CODE_BUCKET = "q2c-rehearsal-code"
OPERATOR = "q2c-rehearsal-operator"

# Batch and transactional actions AWS authorises as their single-item action (the IAM
# reference lists no action of their own, or says so for SQS).
ACTION_ALIASES = {
    "sqs": {
        "SendMessageBatch": "SendMessage",
        "DeleteMessageBatch": "DeleteMessage",
        "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    },
}
TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Delete": "DeleteItem",
    "Update": "UpdateItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


# ---------------------------------------------------------------------------- moto patches
JOURNAL: str | None = None
RECORD: str | None = None
_RECORD_LOCK = threading.Lock()
# Answers that mean "the stack does not give what the code asks for": written to the journal.
MISSING = (
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "ResourceNotFoundException",
    "ParameterNotFound",
)


def _record(handler: Any, status: int, body: str) -> None:
    """Appends one DynamoDB or SQS request with its answer to the recording."""
    if not RECORD or handler.service_name not in ("dynamodb", "sqs"):
        return

    def parsed(text: Any) -> Any:
        if isinstance(text, (dict, list)):  # moto's DynamoDB handler parses its body itself
            return text
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        try:
            return json.loads(text) if text else {}
        except (TypeError, ValueError):
            return {"raw": str(text)[:2000]}

    authorization = handler.headers.get("Authorization", "") or ""
    marker = "Credential="
    principal = authorization.split(marker, 1)[1].split("/", 1)[0] if marker in authorization else ""
    entry = {
        "service": handler.service_name,
        "operation": handler._get_action(),
        "principal": principal,
        "status": status,
        "request": parsed(handler.body),
        "response": parsed(body),
    }
    line = json.dumps(entry) + "\n"
    with _RECORD_LOCK, open(RECORD, "a", encoding="utf-8") as f:
        f.write(line)


def _journal(entry: dict) -> None:
    if JOURNAL:
        with open(JOURNAL, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


def patch_moto() -> None:
    """Makes moto's IAM enforcement check the resources AWS checks, and its stream mappings
    honour Enabled.

    moto authorises every request against the caller's policies, but only SQS tells it the
    resource (the queue ARN); DynamoDB, DynamoDB Streams and SSM pass `*`, which no statement
    naming a table, index, stream or parameter matches, so every grant of the template would
    be refused. Here those services name their resources as AWS does: the table, or
    `<table>/index/<name>` for a Query with IndexName; each table of a batch or transaction,
    each item with its own action (TransactWriteItems has no IAM action: each Put needs
    PutItem); the stream of a shard iterator; `parameter/<name>` for SSM. SQS batch actions
    are authorised as their single-message action, and GetQueueUrl on the queue it names.
    A refusal names the action and the resource, like AWS's message.
    """
    from moto import settings
    from moto.core import authorization
    from moto.core.exceptions import AccessDeniedError
    from moto.dynamodb.models.table import StreamShard
    from moto.iam.access_control import IAMPolicy, IAMRequest

    mixin = authorization.ActionAuthenticatorMixin
    original = mixin._authenticate_and_authorize_normal_action
    for name in ("_authenticate_and_authorize_normal_action",):
        if not hasattr(mixin, name):
            raise SystemExit(f"moto changed: ActionAuthenticatorMixin.{name} is gone")
    if not hasattr(StreamShard, "add"):
        raise SystemExit("moto changed: StreamShard.add is gone")

    def authorize(self: Any, resource: str = "*") -> None:
        service = getattr(self, "service_name", None)
        resolver = RESOURCE_RESOLVERS.get(service)
        if resolver is None:
            return original(self, resource)
        if mixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
            mixin.request_count += 1
            return None
        path = self.raw_path
        if "?" in self.uri:
            path += "?" + self.uri.split("?", 1)[1]
        request = IAMRequest(
            account_id=self.current_account,
            method=self.method,
            path=path,
            data=self.data,
            body=self.raw_body,
            headers=self.headers,
            action=self._get_action(),
        )
        request.check_signature()
        prefix = request._action.split(":", 1)[0]
        try:
            body = json.loads(self.raw_body or b"{}")
        except ValueError:
            body = {}
        for action, arn in resolver(self, body, resource):
            action = ACTION_ALIASES.get(prefix, {}).get(action, action)
            request._action = f"{prefix}:{action}"
            try:
                request.check_action_permitted(arn)
            except AccessDeniedError:
                principal = request._access_key.arn
                _journal({"refused": f"{prefix}:{action}", "resource": arn, "principal": principal})
                raise AccessDeniedError(
                    user_arn=principal, action=f"{prefix}:{action} on resource: {arn}"
                ) from None
        return None

    mixin._authenticate_and_authorize_normal_action = authorize

    # Inline policies of roles made by CloudFormation are kept as parsed documents, which
    # moto's evaluator only takes as JSON text; and moto's CloudFormation leaves a statement
    # that is `!If [cond, {...}, !Ref AWS::NoValue]` as null where CloudFormation drops it.
    original_policy_init = IAMPolicy.__init__

    def policy_init(self: Any, policy: Any) -> None:
        if isinstance(policy, dict) and "Statement" in policy:
            statements = policy["Statement"]
            if isinstance(statements, list):
                policy = {**policy, "Statement": [st for st in statements if st is not None]}
            policy = json.dumps(policy)
        original_policy_init(self, policy)

    IAMPolicy.__init__ = policy_init

    original_add = StreamShard.add

    def add(self: Any, old: Any, new: Any) -> None:
        # moto invokes every stream mapping, enabled or not (its SQS mappings check).
        mappings = self.table.lambda_event_source_mappings
        self.table.lambda_event_source_mappings = {
            arn: esm for arn, esm in mappings.items() if esm.enabled
        }
        try:
            original_add(self, old, new)
        finally:
            self.table.lambda_event_source_mappings = mappings

    StreamShard.add = add

    from moto.core.responses import BaseResponse

    original_call_action = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        answer = original_call_action(self)
        try:
            status, _, body = answer
        except (TypeError, ValueError):
            return answer
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        _record(self, int(status), text)
        if int(status) == 403 or any(code in text for code in MISSING):
            if int(status) != 403 or "AccessDenied" not in text:
                _journal({"service": self.service_name, "action": self._get_action(), "status": int(status), "answer": text[:400]})
        return answer

    BaseResponse.call_action = call_action

    _support_lambda_aliases()


def _support_lambda_aliases() -> None:
    """AutoPublishAlias makes an AWS::Lambda::Version and an AWS::Lambda::Alias per function,
    and points the mappings, permissions and API at the alias. moto's CloudFormation has no
    Alias (and its Version has no `Version` attribute), so those references would dangle:
    here the alias is created through moto's Lambda API, as CloudFormation would."""
    from moto.awslambda.models import LambdaVersion
    from moto.awslambda.utils import get_backend
    from moto.core.common_models import CloudFormationModel
    from moto.cloudformation import parsing

    if parsing.get_model_map.cache_info().currsize:
        raise SystemExit("moto changed: its CloudFormation model map was built before the patch")

    def version_attribute(self: Any, attribute: str) -> Any:
        if attribute == "Version":
            return self.version
        raise NotImplementedError(f"AWS::Lambda::Version attribute {attribute}")

    LambdaVersion.get_cfn_attribute = version_attribute
    LambdaVersion.has_cfn_attr = classmethod(lambda cls, attribute: attribute == "Version")

    class LambdaAliasModel(CloudFormationModel):
        # moto files every model under the service named by its module.
        __module__ = "moto.awslambda.rehearsal"

        def __init__(self, alias: Any):
            self.alias = alias

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Lambda::Alias"

        @classmethod
        def has_cfn_attr(cls, attribute: str) -> bool:
            return attribute in ("AliasArn",)

        def get_cfn_attribute(self, attribute: str) -> Any:
            if attribute == "AliasArn":
                return self.alias.arn
            raise NotImplementedError(f"AWS::Lambda::Alias attribute {attribute}")

        @property
        def physical_resource_id(self) -> str:
            return self.alias.arn

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
        ) -> Any:
            properties = cloudformation_json["Properties"]
            alias = get_backend(account_id, region_name).create_alias(
                name=properties["Name"],
                function_name=properties["FunctionName"],
                function_version=str(properties["FunctionVersion"]),
                description=properties.get("Description", ""),
                routing_config=properties.get("RoutingConfig"),
            )
            return cls(alias)

    globals()["LambdaAliasModel"] = LambdaAliasModel


def _action(handler: Any) -> str:
    return handler._get_action()


def _table_arn(handler: Any, table: str) -> str:
    return f"arn:aws:dynamodb:{handler.region}:{handler.current_account}:table/{table}"


def _dynamodb(handler: Any, body: dict, resource: str) -> list[tuple[str, str]]:
    action = _action(handler)
    if action in ("BatchGetItem", "BatchWriteItem"):
        return [(action, _table_arn(handler, t)) for t in body.get("RequestItems", {})]
    if action in ("TransactWriteItems", "TransactGetItems"):
        checks = []
        for item in body.get("TransactItems", []):
            for kind, spec in item.items():
                table = spec.get("TableName", "")
                checks.append((TRANSACT_ITEM_ACTIONS.get(kind, kind), _table_arn(handler, table)))
        return checks
    table = body.get("TableName")
    if not table:
        return [(action, "*")]
    arn = _table_arn(handler, table)
    if body.get("IndexName"):
        arn += "/index/" + body["IndexName"]
    return [(action, arn)]


def _dynamodbstreams(handler: Any, body: dict, resource: str) -> list[tuple[str, str]]:
    action = _action(handler)
    arn = body.get("StreamArn") or body.get("ShardIterator", "").split("|", 1)[0] or "*"
    return [(action, arn)]


def _ssm(handler: Any, body: dict, resource: str) -> list[tuple[str, str]]:
    action = _action(handler)
    names = body.get("Names") or ([body["Name"]] if "Name" in body else [])
    if not names:
        return [(action, "*")]
    base = f"arn:aws:ssm:{handler.region}:{handler.current_account}:parameter"
    return [(action, base + (n if n.startswith("/") else "/" + n)) for n in names]


def _sqs(handler: Any, body: dict, resource: str) -> list[tuple[str, str]]:
    action = _action(handler)
    if action == "GetQueueUrl":
        owner = body.get("QueueOwnerAWSAccountId") or handler.current_account
        return [(action, f"arn:aws:sqs:{handler.region}:{owner}:{body.get('QueueName', '')}")]
    if resource == "*" and body.get("QueueUrl"):
        # A queue that does not exist (any more): the ARN its URL names, as AWS evaluates it.
        parts = body["QueueUrl"].rstrip("/").split("/")
        resource = f"arn:aws:sqs:{handler.region}:{parts[-2]}:{parts[-1]}"
    return [(action, resource)]


RESOURCE_RESOLVERS = {
    "dynamodb": _dynamodb,
    "dynamodbstreams": _dynamodbstreams,
    "ssm": _ssm,
    "sqs": _sqs,
}


def serve(port: int, journal: str | None, record: str | None = None) -> None:
    global JOURNAL, RECORD
    JOURNAL = journal
    RECORD = record
    patch_moto()
    from moto.server import main

    main(["-H", "127.0.0.1", "-p", str(port)])


# ---------------------------------------------------------------------------- template
def _segments(pointer: str) -> list[str]:
    if not pointer.startswith("/"):
        raise SystemExit(f"edit pointer must start with /: {pointer}")
    return [s.replace("~1", "/").replace("~0", "~") for s in pointer[1:].split("/")]


def _step(node: Any, segment: str, pointer: str) -> Any:
    if isinstance(node, list):
        return node[_index(node, segment, pointer)]
    if isinstance(node, dict) and segment in node:
        return node[segment]
    raise SystemExit(f"edit pointer {pointer}: no {segment!r} in the template")


def _index(node: list, segment: str, pointer: str) -> int:
    if segment.startswith("[") and segment.endswith("]") and "=" in segment:
        key, value = segment[1:-1].split("=", 1)
        for i, item in enumerate(node):
            if isinstance(item, dict) and str(item.get(key)) == value:
                return i
        raise SystemExit(f"edit pointer {pointer}: no element with {key} = {value}")
    try:
        return int(segment)
    except ValueError:
        raise SystemExit(f"edit pointer {pointer}: {segment!r} is not a list index") from None


def apply_edit(template: dict, edit: dict) -> None:
    pointer = edit.get("remove") or edit.get("set")
    if not pointer:
        raise SystemExit(f"an edit is {{'remove': POINTER}} or {{'set': POINTER, 'value': V}}: {edit}")
    *parents, last = _segments(pointer)
    node: Any = template
    for segment in parents:
        node = _step(node, segment, pointer)
    if "remove" in edit:
        if isinstance(node, list):
            del node[_index(node, last, pointer)]
        elif isinstance(node, dict) and last in node:
            del node[last]
        else:
            raise SystemExit(f"edit pointer {pointer}: nothing to remove")
    elif isinstance(node, list):
        node[_index(node, last, pointer)] = edit["value"]
    else:
        node[last] = edit["value"]


def transform(path: str, parameters: dict[str, str], edits: list[dict]) -> dict:
    """The SAM template at `path`, edited, as CloudFormation (aws-sam-translator, offline)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.yaml_helper import yaml_parse

    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    for edit in edits:
        apply_edit(template, edit)
    # The translator takes only S3 code locations (as `sam package` leaves them); the
    # rehearsal runs the bootstraps itself, so moto gets a placeholder per function.
    template.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = f"s3://{CODE_BUCKET}/{name}.zip"
    translator = Translator(managed_policy_map={}, sam_parser=Parser(), plugins=[])
    return translator.translate(
        sam_template=template, parameter_values=dict(parameters), get_managed_policy_map=lambda: {}
    )


# ---------------------------------------------------------------------------- deploy
def _clients(endpoint: str, key: str = "testing", secret: str = "testing"):
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key=secret, region_name=REGION
    )
    return lambda service: session.client(service, endpoint_url=endpoint)


def _set_enforcement(endpoint: str, on: bool) -> None:
    import urllib.request

    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=(b"0" if on else b"inf"),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(request, timeout=30).read()


def _operator(client) -> dict[str, str]:
    """An administrator for the harness's own calls (seeding, observing) once IAM is enforced."""
    iam = client("iam")
    try:
        iam.create_user(UserName=OPERATOR)
        iam.put_user_policy(
            UserName=OPERATOR,
            PolicyName="everything",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            ),
        )
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    for key in iam.list_access_keys(UserName=OPERATOR)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=OPERATOR, AccessKeyId=key["AccessKeyId"])
    key = iam.create_access_key(UserName=OPERATOR)["AccessKey"]
    return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


def deploy(args: argparse.Namespace) -> dict:
    parameters = dict(p.split("=", 1) for p in args.param)
    edits = [json.loads(e) for e in args.edit]
    template = transform(args.template, parameters, edits)
    # Whatever a previous deploy left on: the setup below runs as moto's default identity.
    _set_enforcement(args.endpoint, False)
    client = _clients(args.endpoint)
    s3, cfn, lam, sts = client("s3"), client("cloudformation"), client("lambda"), client("sts")

    # What an operator does before the first deploy (docs/infra.md): the SSM credential.
    ssm = client("ssm")
    for secret in args.ssm_secret:
        name, value = secret.split("=", 1)
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)

    try:
        s3.create_bucket(Bucket=CODE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    placeholder = io.BytesIO()
    with zipfile.ZipFile(placeholder, "w") as archive:
        archive.writestr("bootstrap", "the rehearsal runs the built bootstrap itself\n")
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            code = resource["Properties"]["Code"]
            s3.put_object(Bucket=code["S3Bucket"], Key=code["S3Key"], Body=placeholder.getvalue())

    cfn.create_stack(
        StackName=args.stack,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    stack = cfn.describe_stacks(StackName=args.stack)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise SystemExit(f"stack {args.stack}: {stack['StackStatus']} {stack.get('StackStatusReason', '')}")

    created = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=args.stack):
        for summary in page["StackResourceSummaries"]:
            created[summary["LogicalResourceId"]] = {
                "type": summary["ResourceType"],
                "physical_id": summary.get("PhysicalResourceId", ""),
            }
    skipped = {k: r["Type"] for k, r in template["Resources"].items() if k not in created}

    functions = {}
    by_arn = {}
    for logical, resource in created.items():
        if resource["type"] != "AWS::Lambda::Function":
            continue
        config = lam.get_function_configuration(FunctionName=resource["physical_id"])
        role = sts.assume_role(RoleArn=config["Role"], RoleSessionName=config["FunctionName"])
        credentials = role["Credentials"]
        functions[logical] = {
            "name": config["FunctionName"],
            "arn": config["FunctionArn"],
            "role_arn": config["Role"],
            "runtime": config.get("Runtime"),
            "handler": config.get("Handler"),
            "timeout": config.get("Timeout", 3),
            "memory": config.get("MemorySize", 128),
            "architectures": config.get("Architectures", []),
            "log_group": config.get("LoggingConfig", {}).get("LogGroup"),
            "reserved_concurrency": lam.get_function_concurrency(FunctionName=config["FunctionName"]).get(
                "ReservedConcurrentExecutions"
            ),
            "environment": {k: str(v) for k, v in config.get("Environment", {}).get("Variables", {}).items()},
            "credentials": {
                "access_key_id": credentials["AccessKeyId"],
                "secret_access_key": credentials["SecretAccessKey"],
                "session_token": credentials["SessionToken"],
            },
        }
        by_arn[config["FunctionArn"]] = logical

    mappings = {}
    for logical, resource in created.items():
        if resource["type"] != "AWS::Lambda::EventSourceMapping":
            continue
        esm = lam.get_event_source_mapping(UUID=resource["physical_id"])
        # An alias or version ARN (AutoPublishAlias) names the same function.
        function_arn = esm["FunctionArn"]
        base = ":".join(function_arn.split(":")[:7])
        lam.update_event_source_mapping(UUID=esm["UUID"], Enabled=False)
        mappings[logical] = {
            "uuid": esm["UUID"],
            "function": by_arn.get(base),
            "function_arn": function_arn,
            "source_arn": esm["EventSourceArn"],
            "batch_size": esm.get("BatchSize"),
            "maximum_batching_window_seconds": esm.get("MaximumBatchingWindowInSeconds", 0),
            "starting_position": esm.get("StartingPosition"),
            "filter_patterns": [
                f["Pattern"] for f in esm.get("FilterCriteria", {}).get("Filters", [])
            ],
            "function_response_types": esm.get("FunctionResponseTypes", []),
            "bisect_batch_on_function_error": esm.get("BisectBatchOnFunctionError", False),
            "maximum_retry_attempts": esm.get("MaximumRetryAttempts"),
            "maximum_record_age_seconds": esm.get("MaximumRecordAgeInSeconds"),
            "on_failure_destination": esm.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
            "maximum_concurrency": esm.get("ScalingConfig", {}).get("MaximumConcurrency"),
        }

    manifest = {
        "stack": args.stack,
        "region": REGION,
        "account": ACCOUNT,
        "parameters": parameters,
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        "resources": created,
        "skipped": skipped,
        "functions": functions,
        "mappings": mappings,
        "operator": _operator(client),
        "iam_enforced": bool(args.enforce_iam),
    }
    if args.enforce_iam:
        _set_enforcement(args.endpoint, True)
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve")
    serve_cmd.add_argument("--port", type=int, required=True)
    serve_cmd.add_argument("--journal")
    serve_cmd.add_argument("--record")
    transform_cmd = commands.add_parser("transform")
    transform_cmd.add_argument("template")
    deploy_cmd = commands.add_parser("deploy")
    deploy_cmd.add_argument("--endpoint", required=True)
    deploy_cmd.add_argument("--template", required=True)
    deploy_cmd.add_argument("--stack", required=True)
    deploy_cmd.add_argument("--ssm-secret", action="append", default=[])
    deploy_cmd.add_argument("--enforce-iam", action="store_true")
    for command in (transform_cmd, deploy_cmd):
        command.add_argument("--param", action="append", default=[])
        command.add_argument("--edit", action="append", default=[])
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.port, args.journal, args.record)
    elif args.command == "transform":
        parameters = dict(p.split("=", 1) for p in args.param)
        json.dump(transform(args.template, parameters, [json.loads(e) for e in args.edit]), sys.stdout, indent=1)
    else:
        json.dump(deploy(args), sys.stdout, indent=1)


if __name__ == "__main__":
    main()
