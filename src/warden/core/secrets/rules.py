"""The built-in rule set: credential types written by this project.

Every rule is RE2 syntax (linear time) and names the lower-case keywords that must occur
for it to run. Prefix-shaped tokens (``ghp_``, ``xoxb-``, ``AKIA``) are matched on their
own; opaque values without a prefix are anchored by a nearby name (``heroku ... = <uuid>``).
Each rule has a table test in tests/core/secrets/test_rules.py.
"""

from __future__ import annotations

from warden.core.secrets.model import Rule

S = r"(?:^|[^A-Za-z0-9_\-])"  # start boundary (RE2 has no look-behind)
E = r"(?:[^A-Za-z0-9_\-]|$)"  # end boundary
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def tok(body: str) -> str:
    """A self-identifying token (its prefix is in ``body``)."""
    return rf"{S}({body}){E}"


def near(names: str, value: str) -> str:
    """An opaque value assigned to a name: ``names[\\w.-]{0,25} = value``."""
    return (
        rf"(?i:{names})[\w.\-]{{0,25}}[\s'\"]{{0,3}}(?:=|:=|:|=>|,|\s)[\s'\"]{{0,5}}"
        rf"({value})(?:[^A-Za-z0-9_\-/+=]|$)"
    )


def _r(id: str, description: str, regex: str, keywords: tuple[str, ...] | str, **kw: object) -> Rule:
    if isinstance(keywords, str):
        keywords = (keywords,)
    return Rule(id=id, description=description, regex=regex, keywords=tuple(k.lower() for k in keywords), **kw)  # type: ignore[arg-type]


def _pem(id: str, label: str, begin: str, end: str | None = None) -> Rule:
    end = end or begin
    return _r(
        id,
        f"{label} private key",
        rf"(-----BEGIN {begin}-----[\s\S]*?-----END {end}-----)",
        f"-----begin {begin.lower()}-----",
        window="block",
        checks=("pem",),
    )


# Names that introduce generic credentials; the value checks live in filters.generic_value_ok.
_PASSWORD_NAMES = r"passwd|password|passphrase|pass_?word|pwd|db_?pass|_pass|pass_|pass\b"
_KEY_NAMES = (
    r"secret|token|api_?key|apikey|api-key|access_?key|auth_?key|private_?key|client_?secret|credential"
    r"|auth_?token|session_?key|signing_?key|encryption_?key|master_?key|app_?key|x-api-key|license_?key"
)


def _generic(id: str, description: str, names: str, kind: str, keywords: tuple[str, ...]) -> Rule:
    # (1) the full variable name, (2) an opening quote, (3) the value.
    regex = (
        rf"(?i)([A-Za-z0-9_.\-]{{0,40}}(?:{names})[A-Za-z0-9_.\-]{{0,25}})[\"']?\s{{0,3}}"
        r"(?:=|:=|:|=>|<-|\|\|=)\s{0,3}\\?([\"'`]?)"
        r"([^\s\"'`,;]{8,})"
    )
    return _r(id, description, regex, keywords, secret_group=3, checks=(f"generic_{kind}",), generic=True)


RULES: tuple[Rule, ...] = (
    # --- cloud providers ----------------------------------------------------------------
    _r("aws-access-key-id", "AWS access key ID", tok(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}"),
       ("akia", "asia", "abia", "acca")),
    _r("aws-secret-access-key", "AWS secret access key",
       near(r"aws_?secret_?(?:access_?)?key|secret_?access_?key|aws.{0,20}secret", r"[A-Za-z0-9/+]{40}"),
       ("aws_secret", "secret_access", "secretaccess", "secret-access", "awssecret", "aws secret"),
       entropy=3.5),
    _r("aws-session-token", "AWS session token", near(r"aws_?session_?token", r"[A-Za-z0-9/+=]{100,}"),
       ("session_token", "sessiontoken")),
    _r("aws-mws-key", "Amazon MWS auth token", tok(rf"amzn\.mws\.{UUID}"), "amzn.mws."),
    _r("gcp-api-key", "Google API key", tok(r"AIza[0-9A-Za-z_\-]{35}"), "aiza"),
    _r("gcp-oauth-client-secret", "Google OAuth client secret", tok(r"GOCSPX-[A-Za-z0-9_\-]{28}"), "gocspx-"),
    _r("google-oauth-access-token", "Google OAuth access token", tok(r"ya29\.[0-9A-Za-z_\-]{30,}"), "ya29."),
    _r("google-oauth-refresh-token", "Google OAuth refresh token", tok(r"1//0[0-9A-Za-z_\-]{40,}"), "1//0"),
    _r("gcp-service-account-key-id", "Google service account private_key_id",
       r"\"private_key_id\"\s*:\s*\"([a-f0-9]{40})\"", "private_key_id"),
    _r("azure-storage-account-key", "Azure storage account key",
       r"(?i:AccountKey)=([A-Za-z0-9+/]{86}==)", "accountkey="),
    _r("azure-shared-access-key", "Azure Service Bus / Event Hubs shared access key",
       r"(?i:SharedAccessKey)=([A-Za-z0-9+/]{43}=)", "sharedaccesskey="),
    _r("azure-sas-token", "Azure shared access signature",
       r"[?&]sv=\d{4}-\d\d-\d\d[^\s\"'<>]{0,}?&sig=([A-Za-z0-9%+/]{40,}(?:%3D|=){0,2})", "sig="),
    _r("azure-ad-client-secret", "Azure AD (Entra ID) client secret",
       rf"{S}([A-Za-z0-9_~.]{{3}}\dQ~[A-Za-z0-9_~.\-]{{31,34}}){E}", "q~"),
    _r("azure-devops-pat", "Azure DevOps personal access token",
       near(r"azure_?devops|ado_?pat|azdo|devops_?(?:pat|token)", r"[a-z2-7]{52}|[A-Za-z0-9]{84}"),
       ("azure_devops", "azuredevops", "ado_pat", "adopat", "azdo", "devops_pat", "devops_token", "devopspat")),
    _r("digitalocean-pat", "DigitalOcean personal access token", tok(r"dop_v1_[a-f0-9]{64}"), "dop_v1_"),
    _r("digitalocean-oauth-token", "DigitalOcean OAuth token", tok(r"do[or]_v1_[a-f0-9]{64}"),
       ("doo_v1_", "dor_v1_")),
    _r("alibaba-access-key-id", "Alibaba Cloud AccessKey ID", tok(r"LTAI[A-Za-z0-9]{20}"), "ltai"),
    _r("alibaba-secret-key", "Alibaba Cloud AccessKey secret",
       near(r"alibaba.{0,20}secret|aliyun.{0,20}secret|accesskeysecret", r"[A-Za-z0-9]{30}"),
       ("alibaba", "aliyun", "accesskeysecret")),
    _r("ibm-cloud-api-key", "IBM Cloud API key", near(r"ibm.{0,20}(?:api_?key|apikey)", r"[A-Za-z0-9_\-]{44}"),
       ("ibm_api", "ibmcloud_api", "ibm_cloud_api", "ibm-api", "ibmapi")),
    _r("heroku-api-key", "Heroku API key", near(r"heroku[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", UUID), "heroku"),
    _r("heroku-api-key-v2", "Heroku API key (HRKU)", tok(r"HRKU-[A-Za-z0-9_\-]{60}"), "hrku-"),
    _r("cloudflare-api-token", "Cloudflare API token",
       near(r"cloudflare.{0,20}(?:token|key)|cf_api_(?:token|key)", r"[A-Za-z0-9_\-]{40}"),
       ("cloudflare", "cf_api_")),
    _r("cloudflare-global-api-key", "Cloudflare global API key",
       near(r"cloudflare.{0,20}(?:global|api_?key)|cf_api_key", r"[a-f0-9]{37}"), ("cloudflare", "cf_api_key")),
    _r("cloudflare-origin-ca-key", "Cloudflare Origin CA key", tok(r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}"), "v1.0-"),
    _r("linode-token", "Linode API token", near(r"linode[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"[a-f0-9]{64}"), "linode"),
    _r("flyio-token", "Fly.io access token", tok(r"(?:fo1_[A-Za-z0-9_\-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,2})"),
       ("fo1_", "fm1_", "fm2_", "fm1a_", "fm2r_", "fm1r_", "fm2a_")),
    _r("vercel-token", "Vercel access token", near(r"vercel[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"[A-Za-z0-9]{24}"), "vercel"),
    _r("netlify-token", "Netlify personal access token", tok(r"nfp_[A-Za-z0-9]{36}"), "nfp_"),
    _r("render-api-key", "Render API key", tok(r"rnd_[A-Za-z0-9]{32}"), "rnd_"),
    _r("yandex-api-key", "Yandex Cloud API key", tok(r"AQVN[A-Za-z0-9_\-]{35,38}"), "aqvn"),
    _r("tailscale-key", "Tailscale API/auth key",
       tok(r"tskey-(?:api|auth|client|scim|webhook)-[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,}"), "tskey-"),
    # --- source hosts -------------------------------------------------------------------
    _r("github-pat", "GitHub personal access token (classic)", tok(r"ghp_[A-Za-z0-9]{36}"), "ghp_"),
    _r("github-fine-grained-pat", "GitHub fine-grained personal access token",
       tok(r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}"), "github_pat_"),
    _r("github-oauth-token", "GitHub OAuth access token", tok(r"gho_[A-Za-z0-9]{36}"), "gho_"),
    _r("github-app-token", "GitHub App installation/user token", tok(r"gh[us]_[A-Za-z0-9]{36}"), ("ghu_", "ghs_")),
    _r("github-refresh-token", "GitHub refresh token", tok(r"ghr_[A-Za-z0-9]{36,76}"), "ghr_"),
    _r("gitlab-pat", "GitLab personal access token", tok(r"glpat-[A-Za-z0-9_\-.]{20,60}"), "glpat-"),
    _r("gitlab-pipeline-trigger-token", "GitLab pipeline trigger token", tok(r"glptt-[a-f0-9]{40}"), "glptt-"),
    _r("gitlab-runner-token", "GitLab runner token",
       tok(r"(?:glrt-[A-Za-z0-9_\-.]{20,60}|GR1348941[A-Za-z0-9_\-]{20})"), ("glrt-", "gr1348941")),
    _r("gitlab-deploy-token", "GitLab deploy token", tok(r"gldt-[A-Za-z0-9_\-]{20,60}"), "gldt-"),
    _r("gitlab-feed-token", "GitLab feed token", tok(r"glft-[A-Za-z0-9_\-]{20,60}"), "glft-"),
    _r("gitlab-cicd-job-token", "GitLab CI/CD job token", tok(r"glcbt-[A-Za-z0-9_]{1,5}_[A-Za-z0-9_\-]{20}"),
       "glcbt-"),
    _r("gitlab-oauth-secret", "GitLab OAuth application secret", tok(r"gloas-[A-Za-z0-9_\-]{64}"), "gloas-"),
    _r("gitlab-agent-token", "GitLab Kubernetes agent token", tok(r"glagent-[A-Za-z0-9_\-]{50,}"), "glagent-"),
    _r("bitbucket-token", "Bitbucket access token", tok(r"ATBB[A-Za-z0-9_=.\-]{32,}"), "atbb"),
    _r("atlassian-api-token", "Atlassian API token", tok(r"ATATT3[A-Za-z0-9_\-=]{150,}"), "atatt3"),
    # --- CI/CD and infrastructure --------------------------------------------------------
    _r("circleci-token", "CircleCI personal API token", tok(r"CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}"), "ccipat_"),
    _r("circleci-legacy-token", "CircleCI API token", near(r"circle_?(?:ci)?_?token", r"[a-f0-9]{40}"),
       ("circle",)),
    _r("travis-token", "Travis CI token", near(r"travis.{0,20}(?:token|key)", r"[A-Za-z0-9_\-]{22}"), "travis"),
    _r("buildkite-token", "Buildkite API token", tok(r"bkua_[a-f0-9]{40}"), "bkua_"),
    _r("jenkins-api-token", "Jenkins API token", near(r"jenkins.{0,20}(?:token|api|pass)", r"[a-f0-9]{32,34}"),
       "jenkins"),
    _r("terraform-cloud-token", "Terraform Cloud/Enterprise API token",
       tok(r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70}"), "atlasv1"),
    _r("vault-service-token", "HashiCorp Vault token", tok(r"hv[sb]\.[A-Za-z0-9_\-]{24,}"), ("hvs.", "hvb.")),
    _r("vault-legacy-token", "HashiCorp Vault token (legacy)", near(r"vault.{0,20}token", r"s\.[A-Za-z0-9]{24}"),
       "vault"),
    _r("pulumi-token", "Pulumi access token", tok(r"pul-[a-f0-9]{40}"), "pul-"),
    _r("doppler-token", "Doppler token", tok(r"dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_\-]{1,30}\.)?[A-Za-z0-9]{40,44}"), "dp."),
    _r("sonarqube-token", "SonarQube/SonarCloud token", tok(r"sq[pau]_[a-f0-9]{40}"), ("sqp_", "sqa_", "squ_")),
    _r("snyk-token", "Snyk API token", near(r"snyk[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", UUID), "snyk"),
    _r("codecov-token", "Codecov upload token", near(r"codecov[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", UUID), "codecov"),
    _r("artifactory-token", "JFrog Artifactory API key", tok(r"AKCp[A-Za-z0-9]{69}"), "akcp"),
    _r("octopus-deploy-key", "Octopus Deploy API key", tok(r"API-[A-Z0-9]{26,27}"), "api-"),
    _r("harness-pat", "Harness personal access token",
       tok(r"pat\.[A-Za-z0-9_\-]{22}\.[a-f0-9]{24}\.[A-Za-z0-9]{20}"), "pat."),
    _r("infracost-key", "Infracost API key", tok(r"ico-[A-Za-z0-9]{32}"), "ico-"),
    _r("kubernetes-bootstrap-token", "Kubernetes bootstrap token",
       near(r"token", r"[a-z0-9]{6}\.[a-z0-9]{16}"), ("token",)),
    _r("kubeconfig-token", "Kubernetes client token or password in kubeconfig",
       r"^\s*(?:token|client-key-data|password):\s*([A-Za-z0-9_.\-=+/]{20,})\s*$", ("client-key-data",)),
    # --- payment and commerce ------------------------------------------------------------
    # Test-mode keys (sk_test_) reach no money or customer data: like gitleaks' allowlist of
    # test fixtures, they are treated as look-alikes. A team that wants them can add a rule.
    _r("stripe-secret-key", "Stripe live secret or restricted key", tok(r"(?:sk|rk)_(?:live|prod)_[A-Za-z0-9]{20,}"),
       ("sk_live_", "rk_live_", "sk_prod_", "rk_prod_")),
    _r("stripe-webhook-secret", "Stripe webhook signing secret", tok(r"whsec_[A-Za-z0-9+/]{32,}"), "whsec_"),
    _r("square-access-token", "Square access token", tok(r"(?:EAAA[A-Za-z0-9_\-]{60}|sq0atp-[A-Za-z0-9_\-]{22})"),
       ("eaaa", "sq0atp-")),
    _r("square-oauth-secret", "Square OAuth secret", tok(r"sq0csp-[A-Za-z0-9_\-]{43}"), "sq0csp-"),
    _r("braintree-access-token", "Braintree/PayPal access token",
       tok(r"access_token\$production\$[a-z0-9]{16}\$[a-f0-9]{32}"), "access_token$production$"),
    _r("shopify-token", "Shopify access token", tok(r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
       ("shpat_", "shpca_", "shppa_", "shpss_")),
    _r("flutterwave-secret-key", "Flutterwave secret key", tok(r"FLWSECK(?:_TEST)?-[a-hA-H0-9]{32}-X"), "flwseck"),
    _r("razorpay-key", "Razorpay key secret", near(r"razorpay.{0,20}secret", r"[A-Za-z0-9]{24}"), "razorpay"),
    _r("plaid-access-token", "Plaid access token", tok(rf"access-(?:sandbox|development|production)-{UUID}"),
       ("access-sandbox-", "access-development-", "access-production-")),
    _r("gocardless-token", "GoCardless access token", tok(r"live_[A-Za-z0-9_=\-]{40}"), "live_"),
    _r("coinbase-key", "Coinbase API secret", near(r"coinbase.{0,20}secret", r"[A-Za-z0-9]{32}"), "coinbase"),
    _r("easypost-key", "EasyPost API key", tok(r"EZ[AT]K[A-Za-z0-9]{54}"), ("ezak", "eztk")),
    _r("duffel-token", "Duffel API token", tok(r"duffel_(?:test|live)_[A-Za-z0-9_=\-]{43}"), "duffel_"),
    _r("shippo-token", "Shippo API token", tok(r"shippo_(?:live|test)_[a-f0-9]{40}"), "shippo_"),
    # --- messaging, email, collaboration -------------------------------------------------
    _r("slack-bot-token", "Slack bot token", tok(r"xoxb-[0-9]{10,13}-[0-9]{10,13}-?[A-Za-z0-9]{24,34}"), "xoxb-"),
    _r("slack-user-token", "Slack user token", tok(r"xox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9\-]{28,34}"),
       ("xoxp-", "xoxe-")),
    _r("slack-app-token", "Slack app-level token", tok(r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+"), "xapp-"),
    _r("slack-config-token", "Slack configuration token", tok(r"xoxe\.xox[bp]-\d-[A-Z0-9]{163,}"), "xoxe.xox"),
    _r("slack-legacy-token", "Slack legacy token", tok(r"xox[osar]-(?:\d+-){0,3}[A-Za-z0-9]{8,64}"),
       ("xoxo-", "xoxs-", "xoxa-", "xoxr-")),
    _r("slack-webhook-url", "Slack incoming webhook URL",
       # the secret is the path after the host: a redacted URL still says where it pointed
       r"hooks\.slack\.com/((?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{40,60})", "hooks.slack.com/"),
    _r("discord-webhook-url", "Discord webhook URL",
       r"(discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,68})", "/api/webhooks/"),
    _r("discord-bot-token", "Discord bot token",
       tok(r"[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}"), ("discord",)),
    _r("telegram-bot-token", "Telegram bot token", rf"(?:^|[^0-9])([0-9]{{8,10}}:AA[A-Za-z0-9_\-]{{33}}){E}", ":aa"),
    _r("twilio-api-key", "Twilio API key or auth token",
       near(r"twilio.{0,20}(?:key|token|secret)", r"SK[0-9a-fA-F]{32}|[0-9a-f]{32}"), "twilio"),
    _r("sendgrid-api-key", "SendGrid API key", tok(r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"), ()),
    _r("mailgun-api-key", "Mailgun API key", tok(r"key-[a-f0-9]{32}"), "key-"),
    _r("mailchimp-api-key", "Mailchimp API key", tok(r"[a-f0-9]{32}-us[0-9]{1,2}"), "-us"),
    _r("mailersend-token", "MailerSend API token", tok(r"mlsn\.[a-f0-9]{64}"), "mlsn."),
    _r("brevo-api-key", "Brevo (Sendinblue) API key", tok(r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}"), "xkeysib-"),
    _r("postmark-token", "Postmark server token", near(r"postmark[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", UUID), "postmark"),
    _r("resend-api-key", "Resend API key", tok(r"re_[A-Za-z0-9]{8}_[A-Za-z0-9]{24}"), ("resend",)),
    _r("teams-webhook-url", "Microsoft Teams incoming webhook URL",
       r"(https://[a-z0-9\-]+\.webhook\.office\.com/webhookb2/[a-f0-9\-]{36}@[a-f0-9\-]{36}/IncomingWebhook/"
       r"[a-f0-9]{32}/[a-f0-9\-]{36}(?:/[A-Za-z0-9_\-]+)?)", "webhook.office.com"),
    _r("intercom-token", "Intercom access token", near(r"intercom[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"[A-Za-z0-9=_\-]{60}"), "intercom"),
    _r("zendesk-token", "Zendesk API token", near(r"zendesk[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"[A-Za-z0-9]{40}"), "zendesk"),
    _r("pagerduty-token", "PagerDuty API key", near(r"pagerduty[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"[A-Za-z0-9_+\-]{20}"), "pagerduty"),
    _r("notion-token", "Notion integration token", tok(r"(?:secret_[A-Za-z0-9]{43}|ntn_[0-9]{11}[A-Za-z0-9]{35})"),
       ("secret_", "ntn_")),
    _r("airtable-pat", "Airtable personal access token", tok(r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}"), ()),
    _r("linear-api-key", "Linear API key", tok(r"lin_api_[A-Za-z0-9]{40}"), "lin_api_"),
    _r("figma-pat", "Figma personal access token", tok(r"figd_[A-Za-z0-9_\-]{40}"), "figd_"),
    _r("contentful-token", "Contentful personal access token", tok(r"CFPAT-[A-Za-z0-9_\-]{43}"), "cfpat-"),
    _r("postman-api-key", "Postman API key", tok(r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}"), "pmak-"),
    _r("readme-api-key", "ReadMe API key", tok(r"rdme_[a-z0-9]{70}"), "rdme_"),
    _r("hubspot-token", "HubSpot private app token", tok(rf"pat-(?:na|eu)1-{UUID}"), ("pat-na1-", "pat-eu1-")),
    _r("typeform-token", "Typeform personal access token", tok(r"tfp_[A-Za-z0-9_.=\-]{59}"), "tfp_"),
    _r("asana-token", "Asana personal access token",
       near(r"asana[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"[12]/[0-9]{16}(?:/[0-9]{16})?:[a-f0-9]{32}"), "asana"),
    _r("dropbox-token", "Dropbox access token", tok(r"sl\.[A-Za-z0-9_\-]{130,}"), ()),
    _r("okta-token", "Okta API token", near(r"okta[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"00[A-Za-z0-9_\-]{40}"), "okta"),
    _r("auth0-client-secret", "Auth0 client secret", near(r"auth0.{0,20}secret", r"[A-Za-z0-9_\-]{64}"), "auth0"),
    _r("twitch-token", "Twitch API token", near(r"twitch[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"[a-z0-9]{30}"), "twitch"),
    _r("twitter-bearer-token", "Twitter/X bearer token", tok(r"A{21}[A-Za-z0-9%]{80,}"), (),
       checks=()),
    _r("facebook-access-token", "Facebook/Meta access token", tok(r"EAA[A-Za-z0-9]{100,}"), "eaa"),
    _r("mapbox-secret-token", "Mapbox secret token", tok(r"sk\.eyJ[A-Za-z0-9_\-]{50,}\.[A-Za-z0-9_\-]{20,}"), "sk.eyj"),
    _r("salesforce-token", "Salesforce access token", tok(r"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{80,}"), ()),
    _r("firebase-fcm-server-key", "Firebase Cloud Messaging server key",
       tok(r"AAAA[A-Za-z0-9_\-]{7}:[A-Za-z0-9_\-]{140}"), ()),
    # --- observability -------------------------------------------------------------------
    _r("sentry-token", "Sentry auth token", tok(r"(?:sntrys_eyJ[A-Za-z0-9+/=_\-]{60,}|sntryu_[a-f0-9]{64})"),
       ("sntrys_", "sntryu_")),
    _r("newrelic-key", "New Relic API key", tok(r"(?:NRAK-[A-Z0-9]{27}|NRJS-[a-f0-9]{19}|NRII-[A-Za-z0-9_\-]{32})"),
       ("nrak-", "nrjs-", "nrii-")),
    _r("datadog-api-key", "Datadog API/application key",
       near(r"(?:datadog|dd)_?(?:api|app|application)_?key|datadog.{0,20}key", r"[a-f0-9]{32}|[a-f0-9]{40}"),
       ("datadog", "dd_api", "dd_app", "ddapi", "ddapp")),
    _r("grafana-token", "Grafana API key / service account / cloud token",
       tok(r"(?:glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|eyJrIjoi[A-Za-z0-9]{70,}={0,2})"),
       ("glc_", "glsa_", "eyjrijoi")),
    _r("dynatrace-token", "Dynatrace API token", tok(r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}"), "dt0c01."),
    _r("honeycomb-key", "Honeycomb API key", near(r"honeycomb[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"[A-Za-z0-9]{22,32}"), "honeycomb"),
    _r("algolia-key", "Algolia admin API key", near(r"algolia[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"[a-f0-9]{32}"), "algolia"),
    # --- AI providers ----------------------------------------------------------------------
    _r("openai-api-key", "OpenAI API key",
       tok(r"sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,}"), "t3blbkfj"),
    _r("openai-project-key", "OpenAI project/service account key",
       tok(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,}"), ("sk-proj-", "sk-svcacct-", "sk-admin-")),
    _r("anthropic-api-key", "Anthropic API key", tok(r"sk-ant-(?:api|admin|sid)[0-9]{2}-[A-Za-z0-9_\-]{80,}"),
       "sk-ant-"),
    _r("groq-api-key", "Groq API key", tok(r"gsk_[A-Za-z0-9]{52}"), "gsk_"),
    _r("perplexity-api-key", "Perplexity API key", tok(r"pplx-[A-Za-z0-9]{48}"), "pplx-"),
    _r("xai-api-key", "xAI API key", tok(r"xai-[A-Za-z0-9]{80}"), "xai-"),
    _r("openrouter-api-key", "OpenRouter API key", tok(r"sk-or-v1-[a-f0-9]{64}"), "sk-or-v1-"),
    _r("huggingface-token", "Hugging Face access token", tok(r"(?:hf_[A-Za-z]{34}|api_org_[A-Za-z]{34})"),
       ("hf_", "api_org_")),
    _r("replicate-token", "Replicate API token", tok(r"r8_[A-Za-z0-9]{37}"), "r8_"),
    _r("langsmith-key", "LangSmith API key", tok(r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}"), "lsv2_"),
    _r("pinecone-key", "Pinecone API key", tok(r"pcsk_[A-Za-z0-9_]{50,}"), "pcsk_"),
    _r("fireworks-key", "Fireworks AI API key", tok(r"fw_[A-Za-z0-9]{24}"), "fw_"),
    _r("cohere-api-key", "Cohere API key", near(r"cohere.{0,20}|co_api_key", r"[A-Za-z0-9]{40}"),
       ("cohere", "co_api_key")),
    _r("mistral-api-key", "Mistral AI API key", near(r"mistral[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"[A-Za-z0-9]{32}"), "mistral"),
    _r("deepseek-api-key", "DeepSeek API key", near(r"deepseek[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"sk-[a-f0-9]{32}"), "deepseek"),
    _r("together-api-key", "Together AI API key", near(r"together[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"(?:tgp_v1_)?[A-Za-z0-9_\-]{43,64}"),
       "together"),
    _r("elevenlabs-api-key", "ElevenLabs API key", near(r"eleven.{0,20}|xi-api-key", r"(?:sk_)?[a-f0-9]{32,48}"),
       ("eleven", "xi-api-key")),
    _r("wandb-api-key", "Weights & Biases API key", near(r"wandb[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"[a-f0-9]{40}"), "wandb"),
    # --- package registries ------------------------------------------------------------------
    _r("npm-token", "npm access token", tok(r"npm_[A-Za-z0-9]{36}"), "npm_"),
    _r("npmrc-auth-token", "npm registry auth token in .npmrc",
       r":_authToken=([A-Za-z0-9_\-.+/=]{20,})", ":_authtoken="),
    _r("npmrc-auth", "npm registry credentials (_auth / _password) in .npmrc",
       r"(?:^|:)_(?:auth|password)\s*=\s*[\"']?([A-Za-z0-9+/]{8,}={0,2})", ("_auth", "_password"),
       checks=("npmrc_auth",)),
    _r("pypi-token", "PyPI upload token", tok(r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}"), "pypi-ageichlwas5vcmc"),
    _r("rubygems-token", "RubyGems API key", tok(r"rubygems_[a-f0-9]{48}"), "rubygems_"),
    _r("nuget-api-key", "NuGet API key", tok(r"oy2[a-z0-9]{43}"), "oy2"),
    _r("dockerhub-pat", "Docker Hub access token", tok(r"dckr_(?:pat|oat)_[A-Za-z0-9_\-]{27,}"),
       ("dckr_pat_", "dckr_oat_")),
    _r("docker-config-auth", "Docker registry credentials in config.json",
       r"\"auth\"\s*:\s*\"([A-Za-z0-9+/]{12,}={0,2})\"", "\"auth\"", checks=("b64_userpass",)),
    _r("crates-io-token", "crates.io API token", tok(r"cio[A-Za-z0-9]{32}"), ()),
    _r("clojars-token", "Clojars deploy token", tok(r"CLOJARS_[a-z0-9]{60}"), "clojars_"),
    _r("databricks-token", "Databricks API token", tok(r"dapi[a-f0-9]{32}(?:-[0-9])?"), "dapi"),
    _r("prefect-key", "Prefect API key", tok(r"pnu_[A-Za-z0-9]{36}"), "pnu_"),
    _r("planetscale-token", "PlanetScale password or token",
       tok(r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9=._\-]{32,64}"), "pscale_"),
    _r("supabase-token", "Supabase access or secret key", tok(r"(?:sbp_[a-f0-9]{40}|sb_secret_[A-Za-z0-9_\-]{31,})"),
       ("sbp_", "sb_secret_")),
    _r("adobe-client-secret", "Adobe client secret", tok(r"p8e-[A-Za-z0-9_\-]{32}"), "p8e-"),
    _r("age-secret-key", "age encryption secret key", tok(r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),
       "age-secret-key-1"),
    _r("onepassword-service-token", "1Password service account token", tok(r"ops_eyJ[A-Za-z0-9+/_\-]{250,}={0,3}"),
       "ops_eyj"),
    _r("onepassword-secret-key", "1Password account secret key",
       tok(r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}"), "a3-"),
    _r("defined-networks-key", "Defined Networking API token", tok(r"dnkey-[a-z0-9=_\-]{26}-[a-z0-9=_\-]{52}"),
       "dnkey-"),
    _r("frameio-token", "Frame.io API token", tok(r"fio-u-[A-Za-z0-9_=\-]{64}"), "fio-u-"),
    _r("ngrok-token", "ngrok auth token", near(r"ngrok[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"[0-9A-Za-z]{20,30}_[0-9A-Za-z]{16,30}"), "ngrok"),
    _r("etherscan-key", "Etherscan/Infura/Alchemy API key",
       near(r"(?:etherscan|infura|alchemy)[\w.\-]{0,20}?(?:key|token|secret|auth|pass|pat|cred)", r"[A-Za-z0-9_\-]{32}"), ("etherscan", "infura", "alchemy")),
    # --- databases and connection strings ---------------------------------------------------
    _r("uri-with-password", "URL with embedded password",
       r"(?i)\b[a-z][a-z0-9+.\-]{1,24}://[^\s:@/\"'<>`]{0,}:([^\s:@/\"'<>`]{3,})@[^\s\"'<>/@]{1,}",
       "://", checks=("uri_password",)),
    _r("jdbc-password", "JDBC URL with a password parameter",
       r"(?i)jdbc:[a-z0-9]+:[^\s\"']*?[;?&]password=([^;&\s\"']{3,})", "jdbc:", checks=("uri_password",)),
    _r("connection-string-password", "Database connection string with password (ADO.NET/ODBC)",
       r"(?i)(?:server|data source|host|address)\s*=[^;\"']{1,};[^\"'\n]{0,}?(?:password|pwd)\s*=\s*"
       r"([^;\"'\s]{3,})", ("password=", "pwd="), checks=("uri_password",)),
    _r("mysql-cli-password", "Password on a mysql/mysqldump command line",
       r"\bmysql(?:dump|admin|import)?\b[^\n|;&]{0,}?\s(?:-p|--password=)['\"]?([^\s'\"\-][^\s'\"]{3,})",
       "mysql", checks=("uri_password",)),
    _r("sshpass-password", "Password passed to sshpass -p", r"\bsshpass\s+-p\s*['\"]?([^\s'\"]{3,})", "sshpass",
       checks=("uri_password",)),
    _r("curl-basic-auth", "Credentials passed to curl/wget -u",
       r"\b(?:curl|wget|http)\b[^\n|;&]{0,}?\s(?:-u|--user|--http-password=)\s*['\"]?[^\s:'\"]{1,}:"
       r"([^\s'\"]{3,})", ("curl", "wget"), checks=("uri_password",)),
    _r("http-basic-auth", "HTTP Basic authorization header",
       r"(?i)authorization\s*[:=]\s*[\"']?basic\s+([A-Za-z0-9+/]{12,}={0,2})", "authorization", checks=("b64_userpass",)),
    _r("http-bearer-token", "HTTP Bearer (or Token-scheme) authorization credential",
       r"(?i)(?:\bbearer|authorization[\"']?\s*[:=]\s*[\"']?token)\s+([A-Za-z0-9_\-.~+/]{20,}={0,2})",
       ("bearer", "authorization"), checks=("token",)),
    _r("cli-flag-secret", "Password or token passed as a command-line flag",
       r"(?i)(?:^|\s)(--?(?:password|passwd|pass|token|api-key|apikey|secret|client-secret|auth-token|p))"
       r"[ =]([\"']?)([^\s\"'`;|&]{8,})", ("--pass", "--token", "--api-key", "--apikey", "--secret",
                                              "--client-secret", "--auth-token", "login", "-p "),
       secret_group=3, checks=("cli_flag",), generic=True),
    _r("pgpass-password", "Password in a PostgreSQL .pgpass file",
       r"(?m)^[^:\s#]+:(?:\d+|\*):[^:\s]+:[^:\s]+:([^:\s]{6,})$", (), path=r"pgpass$",
       checks=("uri_password",)),
    _r("netrc-password", "Password in a .netrc entry",
       r"(?i)\bmachine\s+\S+\s+(?:login\s+\S+\s+)?password\s+([^\s\"'#\\]\S{5,})", "machine", checks=("uri_password",)),
    _r("jwt", "JSON Web Token", tok(r"eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{16,}"), "eyj"),
    # --- private keys -------------------------------------------------------------------------
    _pem("private-key-rsa", "RSA", "RSA PRIVATE KEY"),
    _pem("private-key-dsa", "DSA", "DSA PRIVATE KEY"),
    _pem("private-key-ec", "EC", "EC PRIVATE KEY"),
    _pem("private-key-openssh", "OpenSSH", "OPENSSH PRIVATE KEY"),
    _pem("private-key-pkcs8", "PKCS#8", "PRIVATE KEY"),
    _pem("private-key-encrypted", "Encrypted PKCS#8", "ENCRYPTED PRIVATE KEY"),
    _pem("private-key-pgp", "PGP", "PGP PRIVATE KEY BLOCK"),
    _r("private-key-ssh2", "SSH.com (SSH2) private key",
       r"(---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----[\s\S]*?---- END SSH2 ENCRYPTED PRIVATE KEY ----)",
       "---- begin ssh2 encrypted private key ----", window="block", checks=("pem",)),
    _r("private-key-putty", "PuTTY private key",
       r"(PuTTY-User-Key-File-[23]: [\s\S]*?Private-MAC: [a-f0-9]{40,64})", "putty-user-key-file-",
       window="block", checks=("pem",)),
    # --- generic, keyword-anchored ---------------------------------------------------------------
    _generic("generic-password", "Hard-coded password", _PASSWORD_NAMES, "password",
             ("passwd", "password", "passphrase", "pass_word", "pwd", "_pass", "pass_", "dbpass", "pass=", "pass =",
              "pass:", "pass\"", "pass'")),
    _r("php-define-secret", "Secret in a PHP define()",
       r"(?i)define\(\s*['\"]([A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|_KEY|TOKEN|SALT)[A-Z0-9_]*)['\"]\s*,\s*(['\"])"
       r"([^'\"\s]{8,})['\"]", "define(", secret_group=3, checks=("generic_password",), generic=True),
    _r("xml-secret", "Password or secret in an XML element",
       rf"(?i)<([\w.\-]{{0,30}}(?:{_PASSWORD_NAMES}|{_KEY_NAMES})[\w.\-]{{0,20}})(>)([^<\s]{{8,}})</",
       ("password>", "passwd>", "secret>", "token>", "key>", "pwd>"), secret_group=3, checks=("generic_password",),
       generic=True),
    _generic("generic-secret", "Hard-coded secret, token or API key", _KEY_NAMES, "key",
             ("secret", "token", "api_key", "apikey", "api-key", "access_key", "accesskey", "auth_key", "authkey",
              "private_key", "privatekey", "client_secret", "clientsecret", "credential", "auth_token",
              "authtoken", "session_key", "signing_key", "encryption_key", "master_key", "app_key", "appkey",
              "sessionkey", "signingkey", "encryptionkey", "masterkey")),
)
