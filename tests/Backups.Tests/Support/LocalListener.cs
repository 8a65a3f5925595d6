using System.Net;

namespace Backups.Tests.Support;

/// <summary>An HttpListener on 127.0.0.1 for the local stand-ins of remote endpoints (AWS services, Lambda's Runtime API).</summary>
public static class LocalListener
{
    /// <summary>HttpListener cannot bind port 0 and report the port, so it takes one that was free a moment ago.</summary>
    public static (HttpListener Listener, Uri Url) Listen()
    {
        for (var attempt = 1; ; attempt++)
        {
            var url = new Uri($"http://127.0.0.1:{FreePort.Next()}/");
            var listener = new HttpListener();
            listener.Prefixes.Add(url.ToString());
            try
            {
                listener.Start();
                return (listener, url);
            }
            catch (HttpListenerException) when (attempt < FreePort.Attempts)
            {
                listener.Close();
            }
        }
    }

    /// <summary>Answers each request on its own task until the listener stops.</summary>
    public static async Task ServeAsync(HttpListener listener, Func<HttpListenerContext, Task> answer)
    {
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when ((e is HttpListenerException or ObjectDisposedException) && !listener.IsListening)
            {
                return;
            }
            _ = AnswerAsync(context, answer);
        }
    }

    private static async Task AnswerAsync(HttpListenerContext context, Func<HttpListenerContext, Task> answer)
    {
        try
        {
            await answer(context);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or OperationCanceledException)
        {
            // The client went away (it timed out or was cancelled), or the stand-in is stopping; nobody is left to answer.
        }
    }

    public static void Stop(HttpListener listener)
    {
        listener.Stop();
        try
        {
            listener.Close();
        }
        catch (HttpListenerException)
        {
            // The managed HttpListener can report "Address already in use" while removing its prefix when
            // another listener binds at the same moment; it has stopped listening either way.
        }
    }
}
