console.log("rendering with", process.env.PUPPETEER_EXECUTABLE_PATH);
