"""A moto AWS seeded like a real management account, and trailguard deployed in it.

The stack's resources (topic, table, queues) and the functions' environment
are built from template.yaml, so the drill and the functional tests break
when the template and the code stop fitting together.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from drill import template as tpl

ACCOUNT = "111111111111"  # the management account, where trailguard runs
LOG_ARCHIVE_ACCOUNT = "222222222222"  # owns the trail's bucket and key (companions/log-archive)
AUDIT_ACCOUNT = "333333333333"  # the out-of-band witness (companions/witness)
REGION = "us-east-1"
TRAIL_NAME = "org-trail"
DRILL_USER = "backup-operator"  # an IAM user of the account, for attacks on IAM
LOG_BUCKET = f"org-trail-logs-{ACCOUNT}"
STACK = "trailguard"
# Where the trail's bucket and key live: the management account itself, or the
# log-archive account with the companion stack (companions/log-archive/template.yaml).
MANAGEMENT_LAYOUT = "management"
LOG_ARCHIVE_LAYOUT = "log-archive"
# moto draws key ids at random; the trail's key gets a fixed one so that the sample
# events in events/ can name it, as CloudTrail's records name the real key.
TRAIL_KEY_ID = "4f1d5c2a-8b3e-4c6f-9a7d-2e5b8c1f0a93"
TRAIL_LOG_GROUP = "org-trail"
TRAIL_LOG_RETENTION_DAYS = 365
# The log-archive account's administrator, the attacker of the chain scenarios there.
ARCHIVE_ADMIN_ROLE = "OrganizationAccountAccessRole"
COMPANION_TEMPLATE = tpl.ROOT / "companions" / "log-archive" / "template.yaml"

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # One account for a moto server (the bench, make reliability). The in-process world
    # (seeded_world) takes it out: there every account is its own.
    "MOTO_ACCOUNT_ID": ACCOUNT,
}
# True inside seeded_world: moto in this process keeps accounts apart.
_MULTI_ACCOUNT: list[bool] = [False]


_CLIENTS: dict[tuple[str, str], Any] = {}
_ACCOUNT_CLIENTS: dict[tuple[str, str, str], Any] = {}


def aws_client(service: str, region: str = REGION) -> Any:
    """Clients on the world, one per service and region, forgotten when a world ends
    (a client made before moto's mock starts would reach real AWS)."""
    import boto3

    if (service, region) not in _CLIENTS:
        if not _CLIENTS:
            _CLIENTS[("", "")] = boto3.session.Session()
        session: Any = _CLIENTS[("", "")]
        _CLIENTS[(service, region)] = session.client(service, region_name=region)
    return _CLIENTS[(service, region)]


def account_client(service: str, account: str, region: str = REGION) -> Any:
    """A client acting in `account`: the management account's own clients, or, for
    another account, its administrator's session (moto keeps each account's resources
    apart and gives an assumed role's credentials to the role's account)."""
    import boto3

    if account == ACCOUNT:
        return aws_client(service, region)
    if (service, region, account) not in _ACCOUNT_CLIENTS:
        credentials = aws_client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{ARCHIVE_ADMIN_ROLE}",
            RoleSessionName="admin",
        )["Credentials"]
        session: Any = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        _ACCOUNT_CLIENTS[(service, region, account)] = session.client(service, region_name=region)
    return _ACCOUNT_CLIENTS[(service, region, account)]


@dataclass(frozen=True)
class DeliveredAlert:
    """An alert as the SQS subscriber of the topic received it."""

    subject: str
    document: dict[str, Any]
    attributes: dict[str, str]

    @property
    def severity(self) -> str:
        return str(self.document["severity"])

    @property
    def outcome(self) -> str:
        return str(self.document["outcome"])


@dataclass
class FakeLambdaContext:
    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    deadline: float = field(default_factory=lambda: time.monotonic() + 60)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/trailguard/{STACK}/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def resolve(
    value: Any, refs: Mapping[str, str], atts: Mapping[str, str], conditions: Mapping[str, bool]
) -> Any:
    """Evaluate the intrinsic functions trailguard's template uses."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return NO_VALUE if arg == "AWS::NoValue" else refs[arg]
        if key == "Fn::Select":
            return resolve(arg[1], refs, atts, conditions)[int(arg[0])]
        if key == "Fn::Split":
            return str(resolve(arg[1], refs, atts, conditions)).split(arg[0])
        if key == "Fn::GetAtt":
            return atts[".".join(arg)]
        if key == "Fn::If":
            branch = arg[1] if conditions[arg[0]] else arg[2]
            return resolve(branch, refs, atts, conditions)
        if key == "Fn::Join":
            return arg[0].join(str(resolve(v, refs, atts, conditions)) for v in arg[1])
        if key == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            for name, ref in {**refs, **atts}.items():
                text = text.replace("${" + name + "}", ref)
            return text
    if isinstance(value, dict):
        return {k: resolve(v, refs, atts, conditions) for k, v in value.items()}
    if isinstance(value, list):
        resolved = [resolve(v, refs, atts, conditions) for v in value]
        return [v for v in resolved if v is not NO_VALUE]
    return value


NO_VALUE = object()  # !Ref AWS::NoValue: the list item is left out
_ACTIVE: list[World] = []


def active_world() -> World:
    """The world being played (an attack in its log-archive account needs to know it)."""
    return _ACTIVE[0]


class World:
    """The seeded account. Create it inside moto's mock_aws()."""

    def __init__(
        self, parameters: Mapping[str, str] | None = None, layout: str = MANAGEMENT_LAYOUT
    ) -> None:
        self.template = tpl.load_template()
        self.parameters = {**tpl.parameter_defaults(self.template), **(parameters or {})}
        self.trail_name = TRAIL_NAME
        self.trail_arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{TRAIL_NAME}"
        self.layout = layout
        # The account that owns the trail's bucket and key.
        self.chain_account = LOG_ARCHIVE_ACCOUNT if layout == LOG_ARCHIVE_LAYOUT else ACCOUNT
        self.companion_rules: list[dict[str, Any]] = []
        _ACTIVE[:] = [self]
        self.emulation: Any = None  # drill.emulation.Emulation, set by seeded_world
        self.witness: Any = None  # drill.witness.Witness once a scenario deploys one
        self._seed_organization()
        if layout == LOG_ARCHIVE_LAYOUT:
            self.parameters["LogArchiveAccountId"] = LOG_ARCHIVE_ACCOUNT
            self.parameters["OrganizationId"] = self.organization_id
            self._deploy_companion()
        self._seed_trail()
        self._deploy_stack()

    # ------------------------------------------------------------ the account
    def _seed_organization(self) -> None:
        org = aws_client("organizations")
        self.organization_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        org.enable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
        aws_client("iam").create_service_linked_role(AWSServiceName="cloudtrail.amazonaws.com")

    def chain_client(self, service: str) -> Any:
        """A client in the account that owns the trail's bucket and key."""
        return account_client(service, self.chain_account)

    def _seed_chain(self) -> None:
        """The trail's bucket and key as the CloudTrail User Guide asks for an
        organization trail, plus what a real log bucket carries besides: a TLS-only
        deny and a statement for an unrelated reader, which repairs must keep."""
        # Typed as Any: moto's modules do not export what is patched here.
        kms_models: Any = importlib.import_module("moto.kms.models")
        s3 = self.chain_client("s3")
        s3.create_bucket(Bucket=LOG_BUCKET)
        s3.put_bucket_versioning(Bucket=LOG_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(
            Bucket=LOG_BUCKET,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        s3.put_bucket_policy(Bucket=LOG_BUCKET, Policy=json.dumps(self.bucket_policy()))
        s3.put_bucket_lifecycle_configuration(
            Bucket=LOG_BUCKET, LifecycleConfiguration={"Rules": [self.lifecycle_rule()]}
        )
        generate = kms_models.generate_key_id
        kms_models.generate_key_id = lambda multi_region=False: TRAIL_KEY_ID
        try:
            self.trail_key_arn = self.chain_client("kms").create_key(
                Description="org trail", Policy=json.dumps(self.key_policy())
            )["KeyMetadata"]["Arn"]
        finally:
            kms_models.generate_key_id = generate

    def _cloudtrail_condition(self) -> dict[str, Any]:
        return {"StringEquals": {"aws:SourceArn": self.trail_arn}}

    def bucket_policy(self) -> dict[str, Any]:
        bucket = f"arn:aws:s3:::{LOG_BUCKET}"
        write = {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": self.trail_arn}
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AWSCloudTrailAclCheck",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:GetBucketAcl",
                    "Resource": bucket,
                    "Condition": self._cloudtrail_condition(),
                },
                {
                    "Sid": "AWSCloudTrailWrite",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket}/org/AWSLogs/{ACCOUNT}/*",
                    "Condition": {"StringEquals": write},
                },
                {
                    "Sid": "AWSCloudTrailOrganizationWrite",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket}/org/AWSLogs/{self.organization_id}/*",
                    "Condition": {"StringEquals": write},
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket, f"{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Sid": "AuditorsRead",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{AUDIT_ACCOUNT}:root"},
                    "Action": "s3:GetObject",
                    "Resource": f"{bucket}/*",
                },
            ],
        }

    @staticmethod
    def lifecycle_rule() -> dict[str, Any]:
        return {
            "ID": "KeepSevenYears",
            "Status": "Enabled",
            "Filter": {"Prefix": "org/"},
            "Expiration": {"Days": 2557},
        }

    def key_policy(self) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Id": "org-trail-key",
            "Statement": [
                {
                    "Sid": "EnableIAMUserPermissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{self.chain_account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "AllowCloudTrailToEncryptLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "kms:GenerateDataKey*",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"aws:SourceArn": self.trail_arn},
                        "StringLike": {
                            "kms:EncryptionContext:aws:cloudtrail:arn": (
                                f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"
                            )
                        },
                    },
                },
                {
                    "Sid": "AllowCloudTrailToDescribeKey",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "kms:DescribeKey",
                    "Resource": "*",
                },
            ],
        }

    def _seed_trail(self) -> None:
        self._seed_chain()
        logs = aws_client("logs")
        logs.create_log_group(logGroupName=TRAIL_LOG_GROUP)
        logs.put_retention_policy(
            logGroupName=TRAIL_LOG_GROUP, retentionInDays=TRAIL_LOG_RETENTION_DAYS
        )
        self.trail_log_group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{TRAIL_LOG_GROUP}:*"
        self.trail_logs_role_arn = aws_client("iam").create_role(
            RoleName="CloudTrailToCloudWatchLogs",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudtrail.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        self.trail_topic_arn = aws_client("sns").create_topic(Name="org-trail-deliveries")[
            "TopicArn"
        ]
        ct = aws_client("cloudtrail")
        ct.create_trail(
            Name=TRAIL_NAME,
            S3BucketName=LOG_BUCKET,
            S3KeyPrefix="org",
            SnsTopicName="org-trail-deliveries",
            IncludeGlobalServiceEvents=True,
            IsMultiRegionTrail=True,
            IsOrganizationTrail=True,
            EnableLogFileValidation=True,
            KmsKeyId=self.trail_key_arn,
            CloudWatchLogsLogGroupArn=self.trail_log_group_arn,
            CloudWatchLogsRoleArn=self.trail_logs_role_arn,
            TagsList=[{"Key": "owner", "Value": "security"}, {"Key": "purpose", "Value": "audit"}],
        )
        ct.put_event_selectors(
            TrailName=TRAIL_NAME,
            EventSelectors=[
                {
                    "ReadWriteType": "All",
                    "IncludeManagementEvents": True,
                    "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
                }
            ],
        )
        ct.put_insight_selectors(
            TrailName=TRAIL_NAME, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}]
        )
        ct.start_logging(Name=TRAIL_NAME)

    # ------------------------------------------------------------ the stack
    def _deploy_stack(self) -> None:
        resources = tpl.resources(self.template)
        iam = aws_client("iam")
        refs: dict[str, str] = {
            **self.parameters,
            "AWS::StackName": STACK,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
        }
        atts: dict[str, str] = {}
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::IAM::Role":
                role = iam.create_role(
                    RoleName=f"{STACK}-{logical_id}-EXAMPLE",
                    AssumeRolePolicyDocument=json.dumps(
                        resource["Properties"]["AssumeRolePolicyDocument"], default=str
                    ),
                )["Role"]
                refs[logical_id] = role["RoleName"]
                atts[f"{logical_id}.Arn"] = role["Arn"]
        self.role_arns = {k[:-4]: v for k, v in atts.items() if k.endswith(".Arn")}

        key = aws_client("kms").create_key(Description="trailguard alerts")["KeyMetadata"]
        refs["AlertKey"], atts["AlertKey.Arn"] = key["KeyId"], key["Arn"]
        signing = aws_client("kms").create_key(
            Description="trailguard baseline signing",
            KeySpec="HMAC_256",
            KeyUsage="GENERATE_VERIFY_MAC",
        )["KeyMetadata"]
        refs["BaselineSigningKey"] = signing["KeyId"]
        atts["BaselineSigningKey.Arn"] = self.signing_key_arn = signing["Arn"]
        topic_props = resources["AlertTopic"]["Properties"]
        self.topic_arn = aws_client("sns").create_topic(
            Name=f"{STACK}-AlertTopic-EXAMPLE",
            Attributes={"KmsMasterKeyId": key["KeyId"], "DisplayName": topic_props["DisplayName"]},
        )["TopicArn"]
        refs["AlertTopic"] = self.topic_arn

        dynamodb = aws_client("dynamodb")
        sqs = aws_client("sqs")
        for logical_id, resource in resources.items():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::DynamoDB::Table":
                name = f"{STACK}-{logical_id}-EXAMPLE"
                dynamodb.create_table(
                    TableName=name,
                    AttributeDefinitions=props["AttributeDefinitions"],
                    KeySchema=props["KeySchema"],
                    BillingMode=props["BillingMode"],
                )
                if "TimeToLiveSpecification" in props:
                    dynamodb.update_time_to_live(
                        TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"]
                    )
                refs[logical_id] = name
                atts[f"{logical_id}.Arn"] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
            elif resource["Type"] == "AWS::SQS::Queue":
                url = sqs.create_queue(QueueName=f"{STACK}-{logical_id}-EXAMPLE")["QueueUrl"]
                refs[logical_id] = url
                atts[f"{logical_id}.Arn"] = (
                    f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-{logical_id}-EXAMPLE"
                )
        self.table_name = refs["BaselineTable"]
        self.ledger_table_name = refs["DeliveryLedgerTable"]

        # The on-call engineer's view: an SQS queue subscribed to the alert topic.
        self.alert_queue_url = sqs.create_queue(QueueName="on-call-alerts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(
            QueueUrl=self.alert_queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        aws_client("sns").subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn)

        conditions = self.conditions()
        if conditions["HasChatTopic"]:
            refs["ChatTopic"] = aws_client("sns").create_topic(
                Name=f"{STACK}-ChatTopic-EXAMPLE", Attributes={"KmsMasterKeyId": key["KeyId"]}
            )["TopicArn"]
        env = resolve(tpl.global_environment(self.template), refs, atts, conditions)
        self.environment = {k: str(v) for k, v in env.items()}
        self.environment["AWS_REGION"] = REGION
        self.environment["AWS_LAMBDA_FUNCTION_NAME"] = "trailguard"
        self.environment["POWERTOOLS_METRICS_DISABLED"] = "false"
        self.apply_environment()
        self.capture_baseline()
        # The capture announces each first baseline, as the deployment's capture would.
        self.alerts_while_seeding = len(self.drain_alerts())

    def conditions(self) -> dict[str, bool]:
        """The template's conditions with the world's parameters (those the drill needs)."""
        return {
            "DetectOnly": self.parameters["Mode"] == "detect",
            "HasAlertEmail": bool(self.parameters["AlertEmail"]),
            "HasChatTopic": self.parameters["ChatNotifications"] == "true",
            "HasLogArchive": bool(self.parameters.get("LogArchiveAccountId")),
            "InGlobalEventsRegion": REGION == "us-east-1",
        }

    # ------------------------------------------------------------ the companion
    def _companion_parameters(self) -> dict[str, str]:
        template = tpl.load_template(COMPANION_TEMPLATE)
        return {
            **tpl.parameter_defaults(template),
            "TrailguardAccountId": ACCOUNT,
            "TrailguardStackName": STACK,
            "TrailguardEventBusArn": (
                f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{STACK}-log-archive-events"
            ),
            "OrganizationId": self.organization_id,
            "TrailBucketName": LOG_BUCKET,
            "TrailKeyArn": f"arn:aws:kms:{REGION}:{LOG_ARCHIVE_ACCOUNT}:key/{TRAIL_KEY_ID}",
            "RoleName": self.parameters["LogArchiveRoleName"],
            "ForwarderRoleName": self.parameters["LogArchiveForwarderRoleName"],
        }

    def _deploy_companion(self) -> None:
        """companions/log-archive/template.yaml in the log-archive account: its roles
        with the trust and policies the template declares, and its forwarding rules'
        patterns (the drill routes the account's events through them)."""
        template = tpl.load_template(COMPANION_TEMPLATE)
        refs: dict[str, str] = {
            **self._companion_parameters(),
            "AWS::AccountId": LOG_ARCHIVE_ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
        }
        conditions = {"HasKey": bool(refs["TrailKeyArn"])}
        iam = account_client("iam", LOG_ARCHIVE_ACCOUNT)
        for resource in template["Resources"].values():
            raw = resource.get("Properties", {})
            if resource["Type"] == "AWS::IAM::Role":
                props = resolve(raw, refs, {}, conditions)
                iam.create_role(
                    RoleName=props["RoleName"],
                    AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
                )
                for policy in props.get("Policies", []):
                    iam.put_role_policy(
                        RoleName=props["RoleName"],
                        PolicyName=policy["PolicyName"],
                        PolicyDocument=json.dumps(policy["PolicyDocument"]),
                    )
            elif (
                resource["Type"] == "AWS::Events::Rule"
                and resolve(raw["State"], refs, {}, conditions) == "ENABLED"
            ):
                # Only the pattern: the targets are the bus and queue, which the drill's
                # routing stands for.
                self.companion_rules.append(resolve(raw["EventPattern"], refs, {}, conditions))

    # ------------------------------------------------------------ event routing
    def forwarded_by_companion(self, event: Mapping[str, Any]) -> bool:
        from drill.patterns import matches

        return any(matches(pattern, dict(event)) for pattern in self.companion_rules)

    def receives(self, rule: Any, event: Mapping[str, Any]) -> bool:
        """Whether `rule` (drill.template.Rule), deployed with the world's parameters,
        gets `event`: an enabled rule on the default bus gets the management account's
        own events; one on the log-archive bus gets what the companion forwards."""
        buses = {"LogArchiveEventsBus": "LogArchiveEventsBus", "ForwardedEventsBus": "forwarded"}
        conditions = self.conditions()
        if resolve(rule.state, buses, {}, conditions) != "ENABLED":
            return False
        bus = resolve(rule.event_bus, buses, {}, conditions)
        detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
        account = event.get("account") or (detail or {}).get("recipientAccountId") or ACCOUNT
        if bus == "LogArchiveEventsBus":
            return account == LOG_ARCHIVE_ACCOUNT and self.forwarded_by_companion(event)
        return bool(account == ACCOUNT)

    def apply_environment(self, **overrides: str) -> None:
        """Point this process at the world, as Lambda's environment would."""
        from trailguard import runtime

        os.environ.update(FAKE_CREDENTIALS)
        if _MULTI_ACCOUNT[0]:
            os.environ.pop("MOTO_ACCOUNT_ID", None)
        os.environ.update(self.environment)
        os.environ.update(overrides)
        runtime.reset()

    # ------------------------------------------------------------ invoking
    def handler(self, function_id: str) -> Callable[[dict[str, Any], Any], Any]:
        props = tpl.functions(self.template)[function_id]
        handler = tpl.handler_of(props, self.template)
        functions_dir = str(tpl.ROOT / "functions")
        if functions_dir not in sys.path:
            sys.path.insert(0, functions_dir)
        module = importlib.import_module(tpl.module_path(props["CodeUri"], handler))
        return getattr(module, handler.rsplit(".", 1)[1])  # type: ignore[no-any-return]

    def invoke(self, function_id: str, event: Any) -> Any:
        return self.handler(function_id)(event, FakeLambdaContext(function_id))

    def capture_baseline(self) -> Any:
        return self.invoke("CaptureBaselineFunction", {"action": "capture", "reason": "drill"})

    # ------------------------------------------------------------ observing
    def drain_alerts(self) -> list[DeliveredAlert]:
        sqs = aws_client("sqs")
        delivered: list[DeliveredAlert] = []
        while True:
            batch = sqs.receive_message(
                QueueUrl=self.alert_queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                return delivered
            for message in batch:
                envelope = json.loads(message["Body"])
                delivered.append(
                    DeliveredAlert(
                        subject=envelope.get("Subject", ""),
                        document=json.loads(envelope["Message"]),
                        attributes={
                            k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()
                        },
                    )
                )
                sqs.delete_message(
                    QueueUrl=self.alert_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def trail(self) -> dict[str, Any] | None:
        ct = aws_client("cloudtrail")
        trails = [
            t
            for t in ct.describe_trails(trailNameList=[self.trail_arn])["trailList"]
            if t["Name"] == self.trail_name
        ]
        if not trails:
            return None
        return dict(trails[0])

    def is_logging(self) -> bool:
        return bool(aws_client("cloudtrail").get_trail_status(Name=self.trail_arn)["IsLogging"])

    def trusted_access_enabled(self) -> bool:
        enabled = aws_client("organizations").list_aws_service_access_for_organization()
        return any(
            p["ServicePrincipal"] == "cloudtrail.amazonaws.com"
            for p in enabled["EnabledServicePrincipals"]
        )

    def service_linked_role_exists(self) -> bool:
        roles = aws_client("iam").list_roles(
            PathPrefix="/aws-service-role/cloudtrail.amazonaws.com/"
        )
        return bool(roles["Roles"])

    def snapshot(self) -> Any:
        """The trail as trailguard reads it (None when missing)."""
        from trailguard.adapters.cloudtrail import CloudTrailGateway
        from trailguard.domain.drift import EVERY_ASPECT
        from trailguard.domain.trails import TrailRef

        live = CloudTrailGateway().read(TrailRef.from_arn(self.trail_arn), EVERY_ASPECT)
        return live.snapshot

    def baseline(self) -> Any:
        from trailguard.adapters.baseline_store import DynamoBaselineStore
        from trailguard.adapters.signing import KmsSigner
        from trailguard.domain.trails import TrailRef

        store = DynamoBaselineStore(
            self.table_name, REGION, KmsSigner(self.signing_key_arn, REGION)
        )
        return store.get(TrailRef.from_arn(self.trail_arn))


def trail_bucket_policy() -> dict[str, Any]:
    """The bucket policy CloudTrail needs to deliver the organization trail's files, as
    the active world seeded it (the policy someone puts back by hand)."""
    return _ACTIVE[0].bucket_policy()


def trail_key_policy() -> dict[str, Any]:
    """The key policy: the account administers the key, CloudTrail encrypts with it."""
    return _ACTIVE[0].key_policy()


def load_event(path: str | os.PathLike[str]) -> dict[str, Any]:
    with open(path) as handle:
        return dict(json.load(handle))


@contextmanager
def seeded_world(
    parameters: Mapping[str, str] | None = None, layout: str = MANAGEMENT_LAYOUT
) -> Iterator[World]:
    from moto import mock_aws

    from drill.emulation import alert_path

    alert_path.install()  # SNS with an unusable key, PutEvents across accounts
    core_models: Any = importlib.import_module("moto.core.models")
    iam_models: Any = importlib.import_module("moto.iam.models")

    saved = dict(os.environ)
    os.environ.update(FAKE_CREDENTIALS)
    # MOTO_ACCOUNT_ID would put every call in one account, an assumed role's too; the
    # default account instead is the one credentials of no other account land in.
    os.environ.pop("MOTO_ACCOUNT_ID", None)
    defaults = (core_models.DEFAULT_ACCOUNT_ID, iam_models.DEFAULT_ACCOUNT_ID)
    core_models.DEFAULT_ACCOUNT_ID = iam_models.DEFAULT_ACCOUNT_ID = ACCOUNT
    _CLIENTS.clear()
    _ACCOUNT_CLIENTS.clear()
    _MULTI_ACCOUNT[0] = True
    from drill.emulation import installed

    try:
        with mock_aws(), installed() as emulation:
            world = World(parameters, layout)
            world.emulation = emulation
            # Lambda gives each function its role's credentials; the drill's clients
            # share one fake key, so Event history is told whose calls are trailguard's.
            emulation.history.identify_as(ACCOUNT, world.role_arns["ReconcileInvariantsRole"])
            yield world
    finally:
        _MULTI_ACCOUNT[0] = False
        _CLIENTS.clear()
        _ACCOUNT_CLIENTS.clear()
        core_models.DEFAULT_ACCOUNT_ID, iam_models.DEFAULT_ACCOUNT_ID = defaults
        os.environ.clear()
        os.environ.update(saved)
