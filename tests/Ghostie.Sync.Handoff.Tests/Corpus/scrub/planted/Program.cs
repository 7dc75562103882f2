using Azure.Storage.Blobs;
using Stripe;

// Quick spike, not for production: the keys are inline.
var blobs = new BlobServiceClient("DefaultEndpointsProtocol=https;AccountName=spike;AccountKey=«azure-storage-key:EuQth0Xh8E8KJsufU9FuwrdwPAIC0Ml6/T4HnLiheoXKYXNd6/8DEdyH8i9LH8civbVUzsSdmv7wJBn2c4uLYw==»;EndpointSuffix=core.windows.net");
StripeConfiguration.ApiKey = "«stripe-key:rk_|live_ZYcZt7dC9HVfrRz3eKFIfNhq»";
const string GitLabToken = "«gitlab-token:glpat-|xKhg5QjWV1mKaUyvBPs0»";
const string NpmToken = "«npm-token:npm_|AveadCL8Sby90WIJSbUGWBOWWcuaA5zbWVb2»";
string apiKey = "«assigned-secret:TtrDmkfjm2RhwtuWEP28nBMQ9wOmnWFO»";
var http = new HttpClient();
http.DefaultRequestHeaders.Authorization = new("Bearer", "«bearer-token:oY-lM4egoBy4oz6-njrxSQN5ONc8.4DpdZDr3MMT»");
http.DefaultRequestHeaders.Add("Authorization", "Basic «authorization-header:YmlsbGluZzpaczdQcTJ3WG05dkw=»");
var maps = new Uri("https://maps.googleapis.com/maps/api/geocode/json?address=Warsaw&key=«google-api-key:AIza|SyANC-aBcnwDDOOAZvw6d3eK3pxFkhJA5uF»");
var aws = new Amazon.Runtime.BasicAWSCredentials("«aws-access-key:AKIA|3XZHEL8X1SSIDG9C»", "«aws-secret-key:Y59r5zFa1lykVg5kpYYrDYo57oJP6hq6ItLy8k+Q»");
Console.WriteLine(blobs.AccountName + maps + aws);
