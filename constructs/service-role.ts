import { Lazy } from "cdktf";
import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { patternRule, validateProps } from "./validation";

/** One IAM policy statement (Allow), as the grant helpers of the constructs produce it. */
export interface PolicyStatement {
  /** Statement id: letters and digits only. */
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  /** IAM condition block, e.g. `{ StringLike: { "s3:prefix": ["models/*"] } }`. @default - none */
  readonly condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** Something access can be granted to: a construct's grant helpers call `grant` with a statement. */
export interface Grantable {
  grant(statement: PolicyStatement): void;
}

/** The JSON of an IAM policy document holding these Allow statements. Pure. */
export function policyDocument(statements: readonly PolicyStatement[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: statements.map((s) => ({
      Sid: s.sid,
      Effect: "Allow",
      Action: [...s.actions],
      Resource: [...s.resources],
      ...(s.condition ? { Condition: s.condition } : {}),
    })),
  });
}

/** Props of {@link ServiceRole}. */
export interface ServiceRoleProps {
  /** Name of the role the stack creates. */
  readonly roleName: string;
  /** Service that assumes the role, e.g. "lambda.amazonaws.com". */
  readonly servicePrincipal: string;
  /**
   * An existing role to use instead (AWS Academy's LabRole: the lab cannot create roles).
   * Grants are then no-ops: that role's permissions are the lab's, not ours.
   * @default - the stack creates a role with exactly the granted statements
   */
  readonly existingRoleArn?: string;
}

/**
 * The execution role of a service: either a role the stack creates, whose one inline policy
 * holds exactly what the constructs granted (least privilege), or an existing role by ARN.
 */
export class ServiceRole extends Construct implements Grantable {
  /** ARN of the role in use. */
  public readonly arn: string;
  /** Name of the role in use when the stack created it. @default - undefined with an existing role */
  public readonly roleName: string | undefined;
  /** The created role. @default - undefined with an existing role */
  public readonly role: IamRole | undefined;
  /**
   * The created role's inline policy, for `dependsOn`: AWS checks some permissions when a
   * resource is created (Lambda checks sqs:SendMessage on its dead-letter queue).
   * @default - undefined with an existing role
   */
  public readonly policy: IamRolePolicy | undefined;
  private readonly statements: PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    validateProps("service role", [
      patternRule("roleName", props.roleName, /^[\w+=,.@-]{1,64}$/, "1 to 64 characters of letters, digits and +=,.@_-"),
    ]);
    if (props.existingRoleArn) {
      this.arn = props.existingRoleArn;
      this.roleName = undefined;
      this.role = undefined;
      return;
    }
    this.role = new IamRole(this, "Role", {
      name: props.roleName,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: props.servicePrincipal }, Action: "sts:AssumeRole" }],
      }),
    });
    this.arn = this.role.arn;
    this.roleName = this.role.name;
    this.policy = new IamRolePolicy(this, "Policy", {
      name: `${props.roleName}-least-privilege`,
      role: this.role.id,
      policy: Lazy.stringValue({ produce: () => policyDocument(this.statements) }),
    });
  }

  /** Adds a statement to the created role's policy; a no-op with an existing role. */
  public grant(statement: PolicyStatement): void {
    if (this.role) this.statements.push(statement);
  }

  /** The statements granted so far (empty with an existing role). */
  public get grantedStatements(): readonly PolicyStatement[] {
    return [...this.statements];
  }
}
