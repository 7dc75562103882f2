import { Octokit } from "@octokit/rest";
import Anthropic from "@anthropic-ai/sdk";

const octokit = new Octokit({ auth: "«github-token:ghp_|TXUuSnH6av1Ib8pp1xxXHU0BScJXj675eVq3»" });
const anthropic = new Anthropic({ apiKey: "«anthropic-key:sk-ant-|api03-G0Wuiw6rWIj0LEiRlwYjqzertEmtWSgz3FSDw0wO0sOZgjON_ytr2FhhKtnELt5HlrMVh9GKeQtw3lgHUR_WUTPOsKhoiAA»" });
const slackHook = "«slack-webhook:https://hooks.slack.com/services/|T0PX87VBL/B0JOMSXUJC/zU9YGP6SxWw4iUiE6LapkRgR»";
const firebaseConfig = { apiKey: "«google-api-key:AIza|SyyeUhwksU8dSaNrFWv5SRclfFhhqCmzhp5»", authDomain: "billing-prod-4711.firebaseapp.com" };
const secret = `«assigned-secret:2FUpOh97d17IvJ+5CzUErCm1r1vypcGAbdm7vrX8»`;
const authToken = "«jwt:eyJ|hbGciOiAiUlMyNTYiLCAidHlwIjogIkpXVCIsICJraWQiOiAiMjAyNC0wNS1hIn0.eyJpc3MiOiAiaHR0cHM6Ly9sb2dpbi5leGFtcGxlLmNvbS8iLCAiYXVkIjogImFwaTovL2F1dGgiLCAic2NvcGUiOiAicmVhZCB3cml0ZSJ9.WpnjieOC_xYidznw1DK5n6sfQX3KVxAzYo3wax_H47hDuvucLNqhlrMleTd3wOjKRW3p5o0Vz8mOI71fOuuD0g»";
await fetch("https://api.example.com/v2/invoices", { headers: { Authorization: "Bearer «bearer-token:9362mwmfaC2sNl8ZZh4Ul4_1Evtj5n9CgkIWnvvv»" } });
const db = "mysql://billing:«url-password:My5ql-B1ll!ng»@mysql.internal:3306/billing";
