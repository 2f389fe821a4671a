-- How an application came in (online, wechat, service_station, cadre). Applications made
-- before channels were recorded all came through the web form, hence the default.
ALTER TABLE applications ADD COLUMN channel text NOT NULL DEFAULT 'online';
