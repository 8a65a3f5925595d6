using Amazon.CDK;
using Backups.Infra;

var app = new App();
try
{
    var settings = BackupSettings.FromContext(app.Node);
    _ = new BackupStack(app, "Backups", settings, new StackProps
    {
        // Account and region from the deploying credentials; the SES identity and the buckets live there.
        Env = new Amazon.CDK.Environment
        {
            Account = System.Environment.GetEnvironmentVariable("CDK_DEFAULT_ACCOUNT"),
            Region = System.Environment.GetEnvironmentVariable("CDK_DEFAULT_REGION"),
        },
        Description = "Nightly encrypted backups: backup-agent, maintenance functions, workflow, alarms",
    });
    app.Synth();
}
catch (SettingsException e)
{
    Console.Error.WriteLine($"backups infra: {e.Message}");
    return 2;
}
return 0;
